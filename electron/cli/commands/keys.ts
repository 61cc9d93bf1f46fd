import type { RepositoryKey } from '../../../shared/domain/engine.js';
import type { CommandModule } from '../cli-context.js';
import { kdfOption, newPassword } from '../password.js';

const keyLine = (k: RepositoryKey) => `${k.id}  ${k.kind.padEnd(8)} ${k.label}  scrypt N=2^${Math.log2(k.kdf.N)} r=${k.kdf.r} p=${k.kdf.p}  created ${k.createdAt}`;

/** Passwords and recovery keys of an encrypted repository: list, add, remove, passwd (rewrap only). */
export const keyCommands: CommandModule = (program, ctx) => {
  const local = async () => (await ctx.engine()).local;
  const key = program.command('key').description("passwords and recovery keys of an encrypted repository (changing one rewraps the repository's key; no backup is rewritten)");
  key
    .command('list')
    .description('the passwords and recovery keys that open the repository')
    .action(async () => {
      const keys = await (await local()).listKeys();
      ctx.print(keys, (l) => l.map(keyLine).join('\n'));
    });
  key
    .command('add')
    .description('add a password (from --new-password-file, TWINSNAP_NEW_PASSWORD or the prompt) or, with --recovery, a new recovery key (printed once)')
    .option('--label <text>', 'what the key is for (e.g. "admin", "office safe")')
    .option('--recovery', 'make a new random recovery key instead of a password')
    .option('--new-password-file <file>', 'the new password (first line; owner-only file)')
    .option('--scrypt-log2n <n>', 'scrypt cost of the new key: N = 2^n (default 16: 64 MiB per unlock)')
    .action(async (o: { label?: string; recovery?: boolean; newPasswordFile?: string; scryptLog2n?: string }) => {
      const ops = await local();
      const kdf = kdfOption(o.scryptLog2n);
      const added = o.recovery ? await ops.addKey({ recovery: true, label: o.label, kdf }) : await ops.addKey({ password: await newPassword(o.newPasswordFile), label: o.label, kdf });
      ctx.print(added, (k) => `added ${k.kind} ${k.id}${k.recoveryKey ? `\nrecovery key (shown once, keep it safe): ${k.recoveryKey}` : ''}`);
    });
  key
    .command('remove <id>')
    .description('remove a password or recovery key (never the last one)')
    .action(async (id: string) => {
      await (await local()).removeKey(id);
      ctx.print({ removed: id }, (d) => `removed key ${d.removed}`);
    });
  key
    .command('remember')
    .description("keep this run's password (--password-file, TWINSNAP_PASSWORD or the prompt) in the data folder's owner-only secrets file, for the background service's scheduled backups")
    .action(async () => {
      const { path } = await (await local()).rememberPassword();
      ctx.print({ remembered: path }, (d) => `the password of ${d.remembered} is kept in the data folder's secrets file (readable by this account only)`);
    });
  key
    .command('forget')
    .description('remove the password kept by `key remember` (scheduled backups then need it again)')
    .action(async () => {
      const { path } = (await local()).forgetPassword();
      ctx.print({ forgotten: path }, (d) => `no password of ${d.forgotten} is kept any more`);
    });
  key
    .command('passwd')
    .description('change the password the repository was opened with (a recovery key opens it and adds a password)')
    .option('--new-password-file <file>', 'the new password (first line; owner-only file)')
    .option('--scrypt-log2n <n>', 'scrypt cost of the new key: N = 2^n (default 16: 64 MiB per unlock)')
    .action(async (o: { newPasswordFile?: string; scryptLog2n?: string }) => {
      const k = await (await local()).changePassword(await newPassword(o.newPasswordFile), kdfOption(o.scryptLog2n));
      ctx.print(k, (d) => `password changed (key ${d.id})`);
    });
};
