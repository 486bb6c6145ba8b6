// The soak's rows: row `id` holds `<id>:` and then one filler letter (chosen by id) up to its
// length, so a checker can tell a row that is whole and where it belongs from one that is not.

/** The body the writer stores in row `id`, `size` characters long. */
export function rowBody(id: number, size: number): string {
  const head = `${id}:`;
  return head + filler(id).repeat(Math.max(0, size - head.length));
}

/** True when `body` is a body the writer could have stored in row `id`. */
export function isRowBody(id: number, body: string): boolean {
  const head = `${id}:`;
  if (!body.startsWith(head)) return false;
  const f = filler(id);
  for (let i = head.length; i < body.length; i++) if (body[i] !== f) return false;
  return true;
}

function filler(id: number): string {
  return String.fromCharCode(97 + (id % 26));
}
