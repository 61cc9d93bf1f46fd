import { useState } from 'react';
import Button from '@mui/material/Button';
import ButtonGroup from '@mui/material/ButtonGroup';
import Menu from '@mui/material/Menu';
import MenuItem from '@mui/material/MenuItem';
import ArrowDropDownIcon from '@mui/icons-material/ArrowDropDown';
import BackupIcon from '@mui/icons-material/Backup';
import { useApp } from '../stores/hooks.js';
import { PickGuestsDialog } from './PickGuestsDialog.js';

/** The global "Back up now ▾" split button: all guests, or pick some. */
export function BackupNowButton() {
  const guests = useApp((s) => s.guests.data);
  const backupNow = useApp((s) => s.backupNow);
  const navigate = useApp((s) => s.navigate);
  const notify = useApp((s) => s.notify);
  const [anchor, setAnchor] = useState<HTMLDivElement | null>(null);
  const [menuOpen, setMenuOpen] = useState(false);
  const [pickOpen, setPickOpen] = useState(false);
  const list = guests ?? [];

  const run = async (ids: string[]) => {
    if (ids.length === 0) {
      notify('There are no guests to back up yet. Check Settings → Hypervisors.', 'warning');
      return;
    }
    const jobIds = await backupNow(ids);
    if (jobIds.length > 0) navigate('jobs');
  };

  return (
    <>
      <ButtonGroup variant="contained" ref={setAnchor} aria-label="Back up now" color="secondary">
        <Button startIcon={<BackupIcon />} onClick={() => void run(list.map((g) => g.id))} data-testid="backup-now-all">
          Back up now
        </Button>
        <Button
          size="small"
          aria-label="Choose what to back up"
          aria-haspopup="menu"
          aria-expanded={menuOpen}
          aria-controls={menuOpen ? 'backup-now-menu' : undefined}
          onClick={() => setMenuOpen(true)}
        >
          <ArrowDropDownIcon />
        </Button>
      </ButtonGroup>
      <Menu id="backup-now-menu" anchorEl={anchor} open={menuOpen} onClose={() => setMenuOpen(false)}>
        <MenuItem
          onClick={() => {
            setMenuOpen(false);
            void run(list.map((g) => g.id));
          }}
        >
          All guests ({list.length})
        </MenuItem>
        <MenuItem
          onClick={() => {
            setMenuOpen(false);
            setPickOpen(true);
          }}
        >
          Pick guests…
        </MenuItem>
      </Menu>
      <PickGuestsDialog
        open={pickOpen}
        guests={list}
        onClose={() => setPickOpen(false)}
        onConfirm={(ids) => {
          setPickOpen(false);
          void run(ids);
        }}
      />
    </>
  );
}
