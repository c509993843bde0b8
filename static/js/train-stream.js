// A training request as the pages make it: POST /api/sessions/{id}/train read as a
// stream (sse.js). While it waits, the page says why: the server's queue ("queued"
// events: its place in line and the expected start), or a 429/503 that turned it away
// for now (tried again after its Retry-After, a few times, each wait longer). Stopping
// cancels it wherever it is: queued or running (DELETE .../train), or between tries.
// A server told to stop (a restart, an update) ends the stream with "stopping": the
// pages say so in the student's language (stoppedText), never a silent cut.
import { ApiError, api, backoff, RETRY_STATUS, TRIES } from "./api.js";
import { lang, pick, t } from "./i18n.js";
import { rules } from "./rules.js";
import { postEvents } from "./sse.js";

// The events that end a stream, as the server states them (app/rules.py).
export const FINAL = rules.training.final_events;

/** What a "stopping" event says, in the page's language: the server stopped the
 * training after its batch and kept what it learned, or before it started. */
export function stoppedText(ev) {
  return pick(ev.message) || t(`error.${ev.code || "server_stopping"}`);
}

/** Thrown by a page that cannot go on once the server stops (its message is
 * stoppedText's). */
export class ServerStopping extends Error {
  constructor(ev) {
    super(stoppedText(ev));
    this.name = "ServerStopping";
    this.code = ev.code;
  }
}

const whole = new Intl.NumberFormat(lang, { maximumFractionDigits: 0 });

/** A wait of `s` seconds, rounded up, in seconds, minutes or hours. */
function duration(s) {
  if (s < 90) return t("train.seconds", { n: whole.format(Math.max(1, Math.ceil(s))) });
  if (s < 90 * 60) return t("train.minutes", { n: whole.format(Math.ceil(s / 60)) });
  return t("train.hours", { n: whole.format(Math.ceil(s / 3600)) });
}

/** What a "queued" event says, in the page's language (no time when the server has
 * nothing to estimate it from). */
export function queuedText(ev) {
  const position = whole.format(ev.position);
  if (ev.expected_start_s == null) return t("train.queuedPosition", { position });
  return t("train.queued", { position, wait: duration(ev.expected_start_s) });
}

/** Resolve after `seconds`, or as soon as `signal` aborts. */
function pause(seconds, signal) {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, seconds * 1000);
    signal?.addEventListener("abort", done, { once: true });
  });
}

/** Train session `id` with request `body`. Each event goes to onEvent(name, data);
 * show(text, kind) says why it waits (kind "queued" or "retry"), and show("", "") once
 * it trains. Aborting `signal` cancels it; if it never reached the server, onEvent sees
 * a "cancelled" of its own. Returns {last, started}: the final event's data (a
 * "stopping" one when the server stopped: show stoppedText(last)) and whether the
 * training started (a "start" event). Throws the ApiError of a request turned away
 * TRIES times or refused for another reason, and an Error if the stream ends early. */
export async function streamTraining(id, body, { onEvent = () => {}, show = () => {}, signal }) {
  const cancel = () => api("DELETE", `/api/sessions/${id}/train`).catch(() => {});
  signal?.addEventListener("abort", cancel, { once: true });
  try {
    for (let attempt = 1; ; attempt++) {
      let last = null;
      let started = false;
      if (signal?.aborted) {
        last = { event: "cancelled" };
        show("", "");
        onEvent("cancelled", last);
        return { last, started };
      }
      try {
        await postEvents(`/api/sessions/${id}/train`, body, (name, data) => {
          // a stop before the server had the request: ask again now that it has it
          if (!last && signal?.aborted) cancel();
          last = data;
          started ||= name === "start";
          if (name === "queued") show(queuedText(data), "queued");
          else if (name === "start" || FINAL.includes(name)) show("", "");
          onEvent(name, data);
        });
      } catch (err) {
        if (!(err instanceof ApiError && RETRY_STATUS.includes(err.status)) || attempt >= TRIES) {
          show("", "");
          throw err;
        }
        const seconds = backoff(err, attempt);
        const wait = duration(seconds);
        const again = { message: err.message, wait, attempt: attempt + 1, tries: TRIES };
        show(t("train.retrying", again), "retry");
        await pause(seconds, signal);
        continue;
      }
      if (!FINAL.includes(last?.event)) throw new Error(t("train.cut"));
      return { last, started };
    }
  } finally {
    signal?.removeEventListener("abort", cancel);
  }
}
