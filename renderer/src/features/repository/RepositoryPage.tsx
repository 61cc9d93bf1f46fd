import { useEffect, useState } from 'react';
import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Card from '@mui/material/Card';
import CardContent from '@mui/material/CardContent';
import CircularProgress from '@mui/material/CircularProgress';
import Typography from '@mui/material/Typography';
import type { RepositoryStats } from '../../../../shared/domain/engine.js';
import { friendlyError, type FriendlyError } from '../../app/error-messages.js';
import { ErrorNotice } from '../../components/LoadState.js';
import { PageHeader } from '../../components/PageHeader.js';
import { damagedText } from '../../lib/damaged.js';
import { useGuestLabel } from '../../hooks/use-guest-label.js';
import { formatBytes, formatDateTime } from '../../lib/format.js';
import { useApp, useEngine } from '../../stores/hooks.js';
import { Facts } from './Facts.js';
import { OffsiteSection } from './OffsiteSection.js';
import { EncryptionCard } from './EncryptionCard.js';

/** Dedup and compression ratios of a repository ("—" when nothing is stored). */
export function ratios(s: RepositoryStats): { dedup: string; compression: string; overall: string } {
  const r = (a: number, b: number) => (b > 0 ? `${(a / b).toFixed(2)}×` : '—');
  return { dedup: r(s.logicalBytes, s.uniqueBytes), compression: r(s.uniqueBytes, s.storedBytes), overall: r(s.logicalBytes, s.storedBytes) };
}

type Action = 'verify' | 'verify-full' | 'gc' | 'rebuild';

/** Repository: size, stored vs logical bytes, dedup and compression, last verify; verify, GC, catalog rebuild. */
export function RepositoryPage() {
  const engine = useEngine();
  const refreshSnapshots = useApp((s) => s.refreshSnapshots);
  const label = useGuestLabel();
  const [stats, setStats] = useState<RepositoryStats | null>(null);
  const [error, setError] = useState<FriendlyError | null>(null);
  const [busy, setBusy] = useState<Action | null>(null);
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);

  const load = () =>
    engine['repository.stats']({})
      .then((s) => (setStats(s), setError(null)))
      .catch((e) => setError(friendlyError(e)));
  useEffect(() => {
    void load();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [engine]);

  const run = async (a: Action) => {
    setBusy(a);
    setResult(null);
    try {
      if (a === 'verify' || a === 'verify-full') {
        const r = await engine['repository.verify']({ full: a === 'verify-full' });
        setResult(r.ok ? { ok: true, text: `Repository is healthy: ${r.checkedChunks} chunks checked.` } : { ok: false, text: damagedText(r.damagedPoints, r.damaged, label) });
      } else if (a === 'gc') {
        const r = await engine['repository.gc']({});
        setResult({ ok: true, text: `Garbage collection removed ${r.removedChunks} unused chunks and freed ${formatBytes(r.freedBytes)}.` });
      } else {
        const r = await engine['catalog.rebuild']({});
        setResult({ ok: true, text: `Catalog rebuilt from the repository: ${r.snapshots} restore points.` });
        void refreshSnapshots();
      }
      void load();
    } catch (e) {
      const f = friendlyError(e);
      setResult({ ok: false, text: f.notAvailable ? 'Not available yet in this build.' : `${f.title}: ${f.detail}. ${f.action}` });
    } finally {
      setBusy(null);
    }
  };

  const facts: [string, string][] = stats
    ? [
        ['Location', stats.path],
        ['Restore points', String(stats.snapshots)],
        ['Logical size (all restore points)', formatBytes(stats.logicalBytes)],
        ['Unique data', formatBytes(stats.uniqueBytes)],
        ['Stored on disk', formatBytes(stats.storedBytes)],
        ['Deduplication', ratios(stats).dedup],
        ['Compression', ratios(stats).compression],
        ['Space saved overall', ratios(stats).overall],
        ['Chunks', String(stats.chunks)],
        ['Last verify', stats.lastVerify ? `${stats.lastVerify.ok ? 'healthy' : 'DAMAGED'}, ${formatDateTime(stats.lastVerify.at)}` : 'never'],
      ]
    : [];
  const btn = (a: Action, label: string) => (
    <Button variant={a === 'verify' ? 'contained' : 'outlined'} disabled={busy !== null} onClick={() => void run(a)} startIcon={busy === a ? <CircularProgress size={16} /> : undefined}>
      {label}
    </Button>
  );

  return (
    <>
      <PageHeader title="Repository" subtitle="Where backups are stored, how much space they use, and their health" />
      <EncryptionCard onUnlocked={() => (void load(), void refreshSnapshots())} />
      {error && <ErrorNotice error={error} what="Repository" onRetry={() => void load()} />}
      {stats && (
        <Card variant="outlined" sx={{ mb: 2 }}>
          <CardContent>
            <Facts facts={facts} testId="repo-stats" />
          </CardContent>
        </Card>
      )}
      {!stats && !error && <Typography>Loading…</Typography>}
      <Box sx={{ display: 'flex', gap: 1, flexWrap: 'wrap' }}>
        {btn('verify', 'Verify')}
        {btn('verify-full', 'Verify every chunk (slow)')}
        {btn('gc', 'Free unused space (GC)')}
        {btn('rebuild', 'Rebuild catalog')}
      </Box>
      {result && (
        <Alert severity={result.ok ? 'success' : 'error'} sx={{ mt: 2 }} role="status" data-testid="repo-result">
          {result.text}
        </Alert>
      )}
      <Box sx={{ mt: 2 }}>
        <OffsiteSection />
      </Box>
    </>
  );
}
