import { useState } from 'react';
import Button from '@mui/material/Button';
import CircularProgress from '@mui/material/CircularProgress';
import ButtonGroup from '@mui/material/ButtonGroup';
import Menu from '@mui/material/Menu';
import MenuItem from '@mui/material/MenuItem';
import ArrowDropDownIcon from '@mui/icons-material/ArrowDropDown';
import BackupIcon from '@mui/icons-material/Backup';
import { useApp } from '../stores/hooks.js';
import { PickGuestsDialog } from './PickGuestsDialog.js';

/**
 * The top bar's "Back up all N guests… ▾" split button: says what it does, and asks first — a
 * dialog lists the guests (all ticked) — or pick some. While the engine starts the jobs the
 * buttons are disabled with a spinner.
 */
export function BackupNowButton() {
  const guests = useApp((s) => s.guests.data);
  const backupNow = useApp((s) => s.backupNow);
  const navigate = useApp((s) => s.navigate);
  const notify = useApp((s) => s.notify);
  const [anchor, setAnchor] = useState<HTMLDivElement | null>(null);
  const [menuOpen, setMenuOpen] = useState(false);
  const [pickOpen, setPickOpen] = useState<false | 'all' | 'pick'>(false);
  const [starting, setStarting] = useState(false);
  const list = guests ?? [];
  const label = list.length === 1 ? `Back up ${list[0]!.name}…` : list.length ? `Back up all ${list.length} guests…` : 'Back up now…';

  const ask = () => {
    if (list.length === 0) {
      notify('There are no guests to back up yet. Check Settings → Hypervisors.', 'warning');
      return;
    }
    setPickOpen('all');
  };
  const run = async (ids: string[]) => {
    setStarting(true);
    try {
      const jobIds = await backupNow(ids);
      setPickOpen(false);
      if (jobIds.length > 0) navigate('jobs');
    } finally {
      setStarting(false);
    }
  };

  return (
    <>
      <ButtonGroup variant="contained" ref={setAnchor} aria-label="Back up now" color="secondary">
        <Button startIcon={starting ? <CircularProgress size={16} color="inherit" aria-hidden /> : <BackupIcon />} disabled={starting} onClick={ask} data-testid="backup-now-all">
          {starting ? 'Starting…' : label}
        </Button>
        <Button
          size="small"
          aria-label="Choose what to back up"
          aria-haspopup="menu"
          aria-expanded={menuOpen}
          aria-controls={menuOpen ? 'backup-now-menu' : undefined}
          onClick={() => setMenuOpen(true)}
          disabled={starting}
        >
          <ArrowDropDownIcon />
        </Button>
      </ButtonGroup>
      <Menu id="backup-now-menu" anchorEl={anchor} open={menuOpen} onClose={() => setMenuOpen(false)}>
        <MenuItem
          onClick={() => {
            setMenuOpen(false);
            ask();
          }}
        >
          All guests ({list.length})…
        </MenuItem>
        <MenuItem
          onClick={() => {
            setMenuOpen(false);
            setPickOpen('pick');
          }}
        >
          Pick guests…
        </MenuItem>
      </Menu>
      <PickGuestsDialog open={pickOpen !== false} preselectAll={pickOpen === 'all'} busy={starting} guests={list} onClose={() => setPickOpen(false)} onConfirm={(ids) => void run(ids)} />
    </>
  );
}
