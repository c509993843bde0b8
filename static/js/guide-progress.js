// The home page: each walkthrough's guided-path progress, from this browser's storage
// (guide-store.js); the task ids are the server's (templates/index.html).
import { doneCount } from "./guide-store.js";
import { t } from "./i18n.js";

for (const p of document.querySelectorAll("[data-guide-tasks]")) {
  const ids = p.dataset.guideTasks.split(" ").filter(Boolean);
  const done = doneCount(ids);
  p.dataset.done = String(done);
  p.textContent = done
    ? t("guide.progress", { done, total: ids.length })
    : t("guide.progressNone", { total: ids.length });
}
