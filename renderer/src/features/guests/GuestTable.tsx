import { useState } from 'react';
import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Checkbox from '@mui/material/Checkbox';
import Chip from '@mui/material/Chip';
import CircularProgress from '@mui/material/CircularProgress';
import Paper from '@mui/material/Paper';
import Table from '@mui/material/Table';
import TableBody from '@mui/material/TableBody';
import TableCell from '@mui/material/TableCell';
import TableContainer from '@mui/material/TableContainer';
import TableHead from '@mui/material/TableHead';
import TableRow from '@mui/material/TableRow';
import Tooltip from '@mui/material/Tooltip';
import Typography from '@mui/material/Typography';
import BackupIcon from '@mui/icons-material/Backup';
import WarningAmberIcon from '@mui/icons-material/WarningAmber';
import type { Guest } from '../../../../shared/domain/guest.js';
import { formatAge, formatDateTime, hypervisorName } from '../../lib/format.js';
import { useApp } from '../../stores/hooks.js';
import { lastResultByGuest } from '../../stores/selectors.js';
import { isDamaged } from '../../lib/damaged.js';
import { guestLabels } from '../../lib/guest-labels.js';

/** The guests table with selection and Back up now. */
export function GuestTable({ guests }: { guests: Guest[] }) {
  const [selected, setSelected] = useState<string[]>([]);
  // guests whose Back up now was clicked and whose job the engine has not answered with yet
  const [starting, setStarting] = useState<string[]>([]);
  const backupNow = useApp((s) => s.backupNow);
  const navigate = useApp((s) => s.navigate);
  const jobs = useApp((s) => s.jobs.data);
  const snapshots = useApp((s) => s.snapshots.data);
  const schedules = useApp((s) => s.schedules.data);
  const last = lastResultByGuest(jobs ?? [], snapshots ?? []);
  const now = Date.now();

  if (guests.length === 0) {
    return (
      <Alert severity="info" data-testid="guests-empty">
        No guests found. TwinSnap lists the VMs of VMware Workstation (registered or in the VM folders set in Settings) and of Hyper-V. Check Settings → Hypervisors.
      </Alert>
    );
  }
  const allSelected = selected.length === guests.length;
  const toggle = (id: string) => setSelected((s) => (s.includes(id) ? s.filter((x) => x !== id) : [...s, id]));
  const start = async (ids: string[]) => {
    setStarting((s) => [...s, ...ids]);
    try {
      const jobIds = await backupNow(ids);
      if (jobIds.length) navigate('jobs');
    } finally {
      setStarting((s) => s.filter((x) => !ids.includes(x)));
    }
  };
  const damagedOf = (guestId: string) => (snapshots ?? []).filter((p) => p.guestId === guestId && isDamaged(p));
  const labels = guestLabels(guests);

  return (
    <>
      <Box sx={{ display: 'flex', gap: 1, mb: 1, alignItems: 'center' }}>
        <Button
          variant="contained"
          startIcon={selected.length > 0 && selected.every((id) => starting.includes(id)) ? <CircularProgress size={16} color="inherit" aria-hidden /> : <BackupIcon />}
          disabled={selected.length === 0 || selected.some((id) => starting.includes(id))}
          onClick={() => void start(selected)}
          data-testid="backup-selected"
        >
          Back up selected ({selected.length})
        </Button>
      </Box>
      <TableContainer component={Paper} variant="outlined">
        <Table size="small" aria-label="Guests">
          <TableHead>
            <TableRow>
              <TableCell padding="checkbox">
                <Checkbox
                  checked={allSelected}
                  indeterminate={selected.length > 0 && !allSelected}
                  onChange={() => setSelected(allSelected ? [] : guests.map((g) => g.id))}
                  slotProps={{ input: { 'aria-label': 'Select all guests' } }}
                />
              </TableCell>
              <TableCell>Guest</TableCell>
              <TableCell>Hypervisor</TableCell>
              <TableCell>State</TableCell>
              <TableCell>Last result</TableCell>
              <TableCell>Next run</TableCell>
              <TableCell align="right">Actions</TableCell>
            </TableRow>
          </TableHead>
          <TableBody>
            {guests.map((g) => {
              // restore points, jobs and schedules carry the guest's id: a same-named guest's never show here
              const l = last.get(g.id);
              const next = schedules?.find((s) => s.guestId === g.id)?.nextRuns[0];
              const damaged = damagedOf(g.id);
              return (
                <TableRow key={g.id} hover selected={selected.includes(g.id)} data-testid="guest-row">
                  <TableCell padding="checkbox">
                    <Checkbox checked={selected.includes(g.id)} onChange={() => toggle(g.id)} slotProps={{ input: { 'aria-label': `Select ${g.name}` } }} />
                  </TableCell>
                  <TableCell component="th" scope="row">
                    <Box sx={{ display: 'flex', alignItems: 'center', gap: 1 }}>
                      {g.name}
                      {labels.get(g.id) !== g.name && (
                        <Typography component="span" variant="body2" color="text.secondary" data-testid="guest-folder">
                          {g.folder ?? g.id}
                        </Typography>
                      )}
                      {g.warnings.length > 0 && (
                        <Tooltip title={g.warnings.join('; ')}>
                          <WarningAmberIcon color="warning" fontSize="small" aria-label={`Warnings: ${g.warnings.join('; ')}`} />
                        </Tooltip>
                      )}
                    </Box>
                  </TableCell>
                  <TableCell>{hypervisorName(g.hypervisor)}</TableCell>
                  <TableCell>
                    <Chip size="small" label={g.state} color={g.state === 'running' ? 'success' : 'default'} variant="outlined" />
                  </TableCell>
                  <TableCell data-testid="guest-last-result">
                    {damaged.length > 0 && (
                      <Tooltip title={`${damaged.map((p) => formatDateTime(p.time)).join(', ')}: forget the damaged point, take a new backup now`}>
                        <Chip
                          size="small"
                          color="error"
                          sx={{ mr: 1 }}
                          data-testid="guest-damaged"
                          label={`${damaged.length} damaged restore point${damaged.length > 1 ? 's' : ''}`}
                          onClick={() => navigate('calendar')}
                        />
                      </Tooltip>
                    )}
                    {l ? (
                      <Tooltip title={formatDateTime(l.at)}>
                        <span>
                          {l.label} · {formatAge(l.at, now)}
                        </span>
                      </Tooltip>
                    ) : (
                      'never backed up'
                    )}
                  </TableCell>
                  <TableCell data-testid="guest-next-run">{next ? formatDateTime(next) : 'not scheduled'}</TableCell>
                  <TableCell align="right">
                    <Button size="small" onClick={() => navigate('calendar', { guest: g.id })}>
                      Settings
                    </Button>
                    <Button
                      size="small"
                      startIcon={starting.includes(g.id) ? <CircularProgress size={14} color="inherit" aria-hidden /> : <BackupIcon />}
                      disabled={starting.includes(g.id)}
                      onClick={() => void start([g.id])}
                      aria-label={`Back up now: ${g.name}`}
                    >
                      {starting.includes(g.id) ? 'Starting…' : 'Back up now'}
                    </Button>
                  </TableCell>
                </TableRow>
              );
            })}
          </TableBody>
        </Table>
      </TableContainer>
    </>
  );
}
