// The phone's queue of check-ins not yet acknowledged by the server. Kept in localStorage so
// a check-in made with no signal survives a closed page; each item carries its client_id, so
// sending it twice never makes two records.
import { request } from "./api.js";

const QUEUE_KEY = "gridpoints.checkinQueue";

export function queued() {
  try {
    const items = JSON.parse(localStorage.getItem(QUEUE_KEY) || "[]");
    return Array.isArray(items) ? items : [];
  } catch (_) {
    return [];
  }
}

function save(items) {
  localStorage.setItem(QUEUE_KEY, JSON.stringify(items));
}

export function enqueue(item) {
  const items = queued().filter((i) => i.client_id !== item.client_id);
  items.push(item);
  save(items);
}

export function newClientId() {
  if (window.crypto && typeof window.crypto.randomUUID === "function") {
    return window.crypto.randomUUID();
  }
  // Old WebViews: a version-4 UUID from getRandomValues.
  const bytes = new Uint8Array(16);
  window.crypto.getRandomValues(bytes);
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.prototype.map.call(bytes, (b) => (b + 0x100).toString(16).slice(1)).join("");
  return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join("-");
}

// Send everything queued in one batch. Items the server answered (stored, or refused for
// good) leave the queue; a network failure leaves it as it was and throws.
export async function flush() {
  const items = queued();
  if (!items.length) return [];
  const answer = await request("POST", "/api/v1/checkins/batch", { items: items });
  const done = {};
  for (const result of answer.items) done[result.client_id] = result;
  save(queued().filter((i) => !done[i.client_id]));
  return answer.items;
}
