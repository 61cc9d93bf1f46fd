import { useEffect, useState } from 'react';
import Box from '@mui/material/Box';
import Typography from '@mui/material/Typography';
import type { FileEntry } from '../../../../shared/domain/files.js';
import { friendlyError } from '../../app/error-messages.js';
import { formatBytes, formatDateTime } from '../../lib/format.js';
import { useEngine } from '../../stores/hooks.js';
import { PREVIEW_MAX, fromBase64, imageType, looksLikeText } from './file-utils.js';

type Preview = { kind: 'text'; text: string } | { kind: 'image'; url: string } | { kind: 'none'; why: string };

/** Preview of a small text or image file (files.read); anything else shows its facts only. */
export function FilePreview({ snapshotId, entry }: { snapshotId: string; entry: FileEntry }) {
  const engine = useEngine();
  const [p, setP] = useState<Preview | null>(null);
  useEffect(() => {
    let live = true;
    let url: string | undefined;
    setP(null);
    if (entry.type !== 'file') setP({ kind: 'none', why: 'Not a file.' });
    else if (entry.size > PREVIEW_MAX) setP({ kind: 'none', why: `Too large to preview (${formatBytes(entry.size)}); restore or download it.` });
    else
      engine['files.read']({ snapshotId, path: entry.path, length: PREVIEW_MAX })
        .then((r) => {
          if (!live) return;
          const bytes = fromBase64(r.base64);
          const img = imageType(entry.name);
          if (img) {
            url = URL.createObjectURL(new Blob([bytes], { type: img }));
            setP({ kind: 'image', url });
          } else if (looksLikeText(bytes)) setP({ kind: 'text', text: new TextDecoder().decode(bytes) });
          else setP({ kind: 'none', why: 'Binary file: no preview.' });
        })
        .catch((e) => live && setP({ kind: 'none', why: friendlyError(e).notAvailable ? 'Reading files is not available yet in this build.' : friendlyError(e).detail }));
    return () => {
      live = false;
      if (url) URL.revokeObjectURL(url);
    };
  }, [engine, snapshotId, entry]);
  return (
    <Box data-testid="file-preview">
      <Typography variant="subtitle2" sx={{ wordBreak: 'break-all' }}>
        {entry.name}
      </Typography>
      <Typography variant="body2" color="text.secondary" sx={{ mb: 1 }}>
        {formatBytes(entry.size)} · {formatDateTime(entry.mtime)}
      </Typography>
      {!p && <Typography variant="body2">Loading preview…</Typography>}
      {p?.kind === 'text' && (
        <Box
          component="pre"
          tabIndex={0}
          aria-label={`Contents of ${entry.name}`}
          sx={{ m: 0, p: 1, maxHeight: 360, overflow: 'auto', bgcolor: 'action.hover', fontSize: 12, whiteSpace: 'pre-wrap', wordBreak: 'break-all' }}
        >
          {p.text}
        </Box>
      )}
      {p?.kind === 'image' && <Box component="img" src={p.url} alt={`Preview of ${entry.name}`} sx={{ maxWidth: '100%', maxHeight: 360 }} />}
      {p?.kind === 'none' && <Typography variant="body2">{p.why}</Typography>}
    </Box>
  );
}
