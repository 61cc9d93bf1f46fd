import { safeStorage } from 'electron';
import type { SecretCodec } from '../engine/engine.js';

/**
 * The desktop app's secret codec: Electron `safeStorage` (Keychain on macOS, DPAPI on Windows,
 * libsecret/kwallet on Linux). Undefined when the platform offers no encryption (e.g. Linux
 * without a keyring, where safeStorage would fall back to a hard-coded key): then secrets stay in
 * the owner-only secrets file as they are. Call after `app.whenReady()`.
 */
export function safeStorageCodec(): SecretCodec | undefined {
  if (!safeStorage.isEncryptionAvailable()) return undefined;
  if (process.platform === 'linux' && safeStorage.getSelectedStorageBackend?.() === 'basic_text') return undefined;
  return {
    kind: 'electron-safeStorage',
    encrypt: (plain) => safeStorage.encryptString(plain).toString('base64'),
    decrypt: (stored) => safeStorage.decryptString(Buffer.from(stored, 'base64')),
  };
}
