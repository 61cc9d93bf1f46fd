import { nameGuestId } from '../../../shared/domain/guest-id.js';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { AppError } from '../../../shared/errors/app-error.js';
import type { GuestSchedule } from '../../../shared/domain/policy.js';
import type { GuestRunState, MaintenanceState } from './ports.js';
import { MemoryScheduleStore } from './memory-schedule-store.js';

interface FileShape {
  version: 1;
  schedules: GuestSchedule[];
  state: Record<string, GuestRunState>;
  maintenance: MaintenanceState;
}

/**
 * A ScheduleStore in one JSON file (`schedules.json` in the app data folder), written
 * atomically (temp file + rename) after every change, so the last-run state survives a crash,
 * a reboot or the app being closed — the basis of catch-up.
 */
export class JsonScheduleStore extends MemoryScheduleStore {
  constructor(private readonly file: string) {
    super();
    if (!existsSync(file)) return;
    let data: FileShape;
    try {
      data = JSON.parse(readFileSync(file, 'utf8')) as FileShape;
    } catch (cause) {
      throw new AppError('CONFIG_INVALID', `schedule file '${file}' is not valid JSON: fix or delete it`, { cause, details: { file } });
    }
    for (const s of data.schedules ?? []) this.schedules.set(s.guestId ?? nameGuestId(s.guest), { ...s, guestId: s.guestId ?? nameGuestId(s.guest) });
    for (const [g, st] of Object.entries(data.state ?? {})) this.states.set(g, st);
    this.maintenance = data.maintenance ?? {};
  }

  protected override persist(): void {
    const data: FileShape = {
      version: 1,
      schedules: this.list(),
      state: Object.fromEntries(this.states),
      maintenance: this.maintenance,
    };
    mkdirSync(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.tmp-${process.pid}`;
    writeFileSync(tmp, `${JSON.stringify(data, null, 2)}\n`);
    renameSync(tmp, this.file);
  }
}
