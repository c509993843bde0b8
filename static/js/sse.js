// Server-Sent Events from a POST (the training stream of /api/sessions/{id}/train):
// fetch's EventSource cannot POST, so the stream is read and split here.
import { errorOf, url } from "./api.js";
import { viewChanged } from "./live-hooks.js";

/** One event block's name and parsed data ("event: name\ndata: {...}"). */
function parseBlock(block) {
  let name = "";
  let data;
  for (const line of block.split("\n")) {
    if (line.startsWith("event: ")) name = line.slice(7);
    else if (line.startsWith("data: ")) data = JSON.parse(line.slice(6));
  }
  if (data === undefined) return null;
  return { name: name || data?.event || "message", data };
}

/** POST `body` as JSON to `path` (an app path, "/api/...": under api.js's BASE) and
 * call onEvent(name, data) for each event as it arrives; throws ApiError on a non-2xx
 * status (with retryAfter: its Retry-After in seconds, or null). */
export async function postEvents(path, body, onEvent) {
  const res = await fetch(url(path), {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "text/event-stream" },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw await errorOf(res);
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buf = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += decoder.decode(value, { stream: true });
    for (let k = buf.indexOf("\n\n"); k >= 0; k = buf.indexOf("\n\n")) {
      const ev = parseBlock(buf.slice(0, k));
      buf = buf.slice(k + 2);
      if (ev) onEvent(ev.name, ev.data);
    }
  }
  const rest = parseBlock(buf + decoder.decode());
  if (rest) onEvent(rest.name, rest.data);
  viewChanged("session"); // a training changed the weights (a live class sends its view)
}
