import { describe, expect, it } from 'vitest';
import { fireEvent, screen, waitFor } from '@testing-library/react';
import { fakeEngine } from '../../test/fakes.js';
import { renderWithServices } from '../../test/render.js';
import { parseTimeOfDay } from './schedule-model.js';
import { ScheduleEditor } from './ScheduleEditor.js';

describe('schedule editor of a guest without a schedule', () => {
  it('shows Off with nothing pre-selected, and saves exactly the time the user added (24-hour)', async () => {
    const engine = fakeEngine({
      'schedules.preview': async () => ({ nextRuns: ['2026-06-01T03:30:00.000Z'] }),
      'schedules.set': async (r) => ({ ...r, nextRuns: [] }) as never,
      'schedules.list': async () => [],
    });
    const dirty: boolean[] = [];
    renderWithServices(<ScheduleEditor guest="Ledger" current={undefined} onDirty={(d) => dirty.push(d)} />, engine);
    expect(screen.getByRole('button', { name: 'Off' }).getAttribute('aria-pressed')).toBe('true');
    expect(screen.getByTestId('unscheduled').textContent).toContain('Ledger has no schedule yet');
    fireEvent.click(screen.getByRole('button', { name: 'Times of day' }));
    expect(screen.getByText('No times yet.')).toBeTruthy();
    fireEvent.change(screen.getByLabelText('Add a time'), { target: { value: '3:30' } });
    fireEvent.click(screen.getByRole('button', { name: 'Add time' }));
    expect(screen.getByRole('listitem').textContent).toBe('03:30');
    expect(dirty.at(-1)).toBe(true);
    fireEvent.click(screen.getByRole('button', { name: 'Save schedule' }));
    await waitFor(() => expect(engine.calls.filter((c) => c.method === 'schedules.set')).toHaveLength(1));
    expect(engine.calls.find((c) => c.method === 'schedules.set')!.req).toMatchObject({ guest: 'Ledger', schedule: { kind: 'times', times: ['03:30'] } });
  });

  it('reads times as 24-hour HH:MM', () => {
    expect(parseTimeOfDay('3:30')).toBe('03:30');
    expect(parseTimeOfDay('1530')).toBe('15:30');
    expect(parseTimeOfDay('23:59')).toBe('23:59');
    expect(parseTimeOfDay('24:00')).toBeUndefined();
    expect(parseTimeOfDay('3:30 PM')).toBeUndefined();
  });
});
