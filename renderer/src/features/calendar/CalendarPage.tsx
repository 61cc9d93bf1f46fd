import { useEffect, useMemo, useState } from 'react';
import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import { ErrorNotice } from '../../components/LoadState.js';
import { PageHeader } from '../../components/PageHeader.js';
import { hypervisorName } from '../../lib/format.js';
import { isStale, retentionText, scheduleText } from '../../lib/schedule-text.js';
import { useApp, useEngine } from '../../stores/hooks.js';
import { FirstRunPanel } from '../first-run/FirstRunPanel.js';
import { GuestDrawer } from '../guest-settings/GuestDrawer.js';
import { dayKey, layoutCalendar, retentionHorizonDays, type CalendarRow, type OffsitePoint } from './calendar-layout.js';
import { CalendarGrid, type RowInfo } from './CalendarGrid.js';
import { CalendarToolbar } from './CalendarToolbar.js';
import { SnapshotDrawer, type DaySelection } from './SnapshotDrawer.js';
import { guestLabels, labelOf } from '../../lib/guest-labels.js';

/**
 * The restore points in the offsite copy, by id: one `offsite.status` per load of the restore
 * points (never one call per point); undefined while none is set up or it cannot be read (the
 * calendar then shows no offsite badges; the Repository page says why).
 */
function useOffsitePoints(points: unknown): ReadonlyMap<string, OffsitePoint> | undefined {
  const engine = useEngine();
  const [map, setMap] = useState<ReadonlyMap<string, OffsitePoint> | undefined>(undefined);
  useEffect(() => {
    let live = true;
    engine['offsite.status']({}).then(
      (o) => {
        if (!live) return;
        setMap(
          o.configured && (!o.error || o.snapshots.length > 0)
            ? new Map(o.snapshots.filter((s) => s.offsite).map((s) => [s.id, s.protectedUntil ? { protectedUntil: s.protectedUntil } : {}]))
            : undefined,
        );
      },
      () => live && setMap(undefined),
    );
    return () => {
      live = false;
    };
  }, [engine, points]);
  return map;
}

/** Calendar (home): every guest's restore points day by day, retention drawn on each row. */
export function CalendarPage() {
  const guests = useApp((s) => s.guests);
  const snapshots = useApp((s) => s.snapshots);
  const jobs = useApp((s) => s.jobs.data);
  const schedules = useApp((s) => s.schedules.data);
  const policies = useApp((s) => s.policies);
  const overlay = useApp((s) => s.overlay);
  const status = useApp((s) => s.status.data);
  const loadPolicies = useApp((s) => s.loadPolicies);
  const refreshSnapshots = useApp((s) => s.refreshSnapshots);
  const routeGuest = useApp((s) => s.routeParams.guest);
  const navigate = useApp((s) => s.navigate);
  const now = Date.now();
  const todayKey = dayKey(new Date(now));
  const [range, setRange] = useState({ endDay: todayKey, days: 14 });
  const [sel, setSel] = useState<{ guest: string; dayIndex: number; key?: string } | null>(null);
  const offsite = useOffsitePoints(snapshots.data);

  // rows are keyed by guest id: two guests that share a name are two rows, told apart by folder
  const guestNames = useMemo(() => (guests.data ?? []).map((g) => g.id), [guests.data]);
  const allNames = useMemo(() => [...new Set([...guestNames, ...(snapshots.data ?? []).map((s) => s.guestId)])], [guestNames, snapshots.data]);
  const labels = useMemo(
    () =>
      guestLabels(
        guests.data ?? [],
        (snapshots.data ?? []).map((s) => ({ guestId: s.guestId, name: s.guest })),
      ),
    [guests.data, snapshots.data],
  );
  useEffect(() => {
    if (allNames.length) void loadPolicies(allNames);
  }, [allNames, loadPolicies]);

  const horizons = useMemo(() => Object.fromEntries(allNames.map((g) => [g, retentionHorizonDays(policies[g])])), [allNames, policies]);
  const layout = useMemo(
    () =>
      layoutCalendar({
        guests: guestNames,
        labels: Object.fromEntries(labels),
        snapshots: snapshots.data ?? [],
        jobs: jobs ?? [],
        endDay: range.endDay,
        days: range.days,
        now,
        horizons,
        forget: overlay?.forget,
        offsite,
      }),
    // `now` changes every render; the day only matters through todayKey
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [guestNames, labels, snapshots.data, jobs, range, horizons, overlay, offsite, todayKey],
  );
  const lastGood = useMemo(() => {
    const m = new Map<string, string>();
    for (const s of snapshots.data ?? []) if ((m.get(s.guestId) ?? '') < s.time) m.set(s.guestId, s.time);
    return m;
  }, [snapshots.data]);
  const rowInfo = useMemo(() => {
    const out: Record<string, RowInfo> = {};
    for (const name of allNames) {
      const g = guests.data?.find((x) => x.id === name);
      const sch = schedules?.find((x) => x.guestId === name)?.schedule;
      const ret = retentionText(policies[name]);
      out[name] = {
        hypervisor: g ? hypervisorName(g.hypervisor) : undefined,
        subtitle: [scheduleText(sch), ret].filter(Boolean).join(', '),
        stale: isStale(lastGood.get(name), sch, now),
      };
    }
    return out;
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [allNames, guests.data, schedules, policies, lastGood, todayKey]);

  const selection: DaySelection | null = useMemo(() => {
    if (!sel) return null;
    const row = layout.rows.find((r) => r.guest === sel.guest);
    const day = layout.days[sel.dayIndex];
    if (!row || !day) return null;
    return { guest: sel.guest, label: row.label, dayKey: day.key, marks: row.cells[sel.dayIndex].marks, selectedKey: sel.key, offsite: offsite !== undefined };
  }, [sel, layout, offsite]);

  const noPoints = snapshots.data !== undefined && snapshots.data.length === 0;
  const showFirstRun = noPoints && !(jobs ?? []).some((j) => j.kind === 'backup');

  return (
    <Box sx={{ pr: { sm: routeGuest ? '520px' : 0 }, transition: 'padding 150ms' }}>
      <PageHeader title="Calendar" subtitle="Every guest’s restore points, day by day. Click a point for details, a guest for its schedule and retention." />
      {showFirstRun && <FirstRunPanel status={status} guests={guests.data} />}
      {snapshots.error && <ErrorNotice error={snapshots.error} what="Restore points" onRetry={() => void refreshSnapshots()} />}
      {guests.error && <ErrorNotice error={guests.error} what="Guests" />}
      {overlay && (
        <Alert severity={overlay.forgetCount ? 'warning' : 'info'} sx={{ mb: 1 }} data-testid="retention-overlay">
          Retention preview for {labelOf(labels, overlay.guest)}: {overlay.forgetCount} restore point{overlay.forgetCount === 1 ? '' : 's'} would be forgotten (hollow marks). Nothing is deleted until
          you apply.
        </Alert>
      )}
      <CalendarToolbar endDay={range.endDay} days={range.days} todayKey={todayKey} onChange={(endDay, days) => setRange({ endDay, days })} offsite={offsite !== undefined} />
      {layout.rows.length === 0 ? (
        <Alert severity="info" data-testid="calendar-empty">
          {snapshots.loading || guests.loading ? 'Loading…' : 'No guests and no restore points yet. Guests appear here as soon as a hypervisor is detected.'}
        </Alert>
      ) : (
        <CalendarGrid
          layout={layout}
          rowInfo={rowInfo}
          selectedKey={selection?.selectedKey}
          onOpenDay={(row: CalendarRow, dayIndex, key) => setSel({ guest: row.guest, dayIndex, key })}
          onOpenGuest={(guest) => navigate('calendar', { guest })}
        />
      )}
      <SnapshotDrawer
        selection={selection}
        onSelect={(key) => setSel((s) => (s ? { ...s, key } : s))}
        onClose={() => setSel(null)}
        onRetention={(guest) => {
          setSel(null);
          navigate('calendar', { guest, tab: 'retention' });
        }}
      />
      <GuestDrawer guest={routeGuest} onClose={() => navigate('calendar')} />
    </Box>
  );
}
