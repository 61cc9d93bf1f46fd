import type { Guest } from '../../../shared/domain/guest.js';

/** Anything that names a guest: a live guest, a restore point, a job, a schedule. */
export interface GuestMention {
  guestId?: string;
  /** The display name recorded with it. */
  name?: string;
}

/**
 * How each guest is shown: its name, and — when another guest has the same name — the folder of
 * its configuration (or, for a guest no hypervisor lists any more, its id) after it, so two
 * "Windows 10 x64" rows can be told apart everywhere (Guests table, calendar, restore, jobs).
 * Live guests give the current name and folder; restore points, jobs and schedules add guests
 * known only from their records. Keyed by guest id.
 */
export function guestLabels(guests: readonly Guest[], mentions: readonly GuestMention[] = []): Map<string, string> {
  const name = new Map<string, string>();
  const folder = new Map<string, string>();
  for (const m of mentions) if (m.guestId && m.name && !name.has(m.guestId)) name.set(m.guestId, m.name);
  for (const g of guests) {
    name.set(g.id, g.name);
    if (g.folder) folder.set(g.id, g.folder);
  }
  const holders = new Map<string, number>();
  for (const n of name.values()) holders.set(n, (holders.get(n) ?? 0) + 1);
  const out = new Map<string, string>();
  for (const [id, n] of name) out.set(id, (holders.get(n) ?? 0) > 1 ? `${n} — ${folder.get(id) ?? id}` : n);
  return out;
}

/** The label of `guestId` from {@link guestLabels}, else the recorded name, else the id. */
export function labelOf(labels: Map<string, string>, guestId: string | undefined, name?: string): string {
  return (guestId && labels.get(guestId)) || name || guestId || '';
}
