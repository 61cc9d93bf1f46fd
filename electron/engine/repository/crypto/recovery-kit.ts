import type { RepositoryInfo } from '../../../../shared/domain/engine.js';

/**
 * The recovery kit of a new encrypted repository: its recovery key and what to do with it. Shown
 * once (`twinsnap init --encrypt`, the app's "Download recovery kit"); the key is never stored
 * in the clear anywhere.
 */
export function recoveryKitText(info: RepositoryInfo, recoveryKey: string): string {
  const kdf = info.encrypted && info.kdf ? `scrypt N=2^${Math.log2(info.kdf.N)}, r=${info.kdf.r}, p=${info.kdf.p}` : 'scrypt';
  return [
    'TwinSnap recovery kit',
    '=====================',
    '',
    `Repository:   ${info.path}`,
    `Repository id: ${info.id}`,
    `Created:      ${info.createdAt}`,
    `Encryption:   AES-256-GCM, chunk names HMAC-SHA256, keys wrapped with ${kdf}`,
    '',
    'Recovery key:',
    '',
    `    ${recoveryKey}`,
    '',
    'Every backup in this repository is encrypted. Without its password or this recovery key',
    'nobody can read it - not you, not TwinSnap support. If the password is forgotten, this key is',
    'the only way back to your backups.',
    '',
    '- Print this page or keep this file somewhere safe that is NOT the backup disk or share',
    '  (a safe, a password manager, a sealed envelope with the office documents).',
    '- To use it, type it wherever TwinSnap asks for the repository password (capitals and dashes',
    "  do not matter), e.g. 'twinsnap --repo <folder> snapshots', or 'Unlock' on the Repository page.",
    "- Then set a new password: 'twinsnap --repo <folder> key passwd' or 'Change password' in the app.",
    '- Anyone holding this key can read every backup: keep it as safe as the backups themselves.',
    '',
  ].join('\n');
}
