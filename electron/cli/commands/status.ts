import type { CommandModule } from '../cli-context.js';

/** `status` and `guests`. */
export const statusCommands: CommandModule = (program, ctx) => {
  program
    .command('status')
    .description('show engine status: data folder, repository, detected hypervisor tools')
    .action(async () => {
      const engine = await ctx.engine();
      const s = await engine.service.call('engine.status', {});
      ctx.print(s, (d) =>
        [
          `TwinSnap ${d.version}`,
          `data folder: ${d.dataDir}`,
          `repository:  ${d.repository}`,
          `log file:    ${d.logFile}`,
          ...d.hypervisors.map((h) => `${h.kind}: ${h.available ? `available (${h.toolPath ?? ''})` : `not available — ${h.problem ?? ''}`}`),
        ].join('\n'),
      );
    });
  program
    .command('guests')
    .description('list the VMs of every detected hypervisor')
    .option('--hypervisor <kind>', 'vmware or hyperv')
    .action(async (o: { hypervisor?: string }) => {
      const engine = await ctx.engine();
      const guests = await engine.service.call('guests.list', o.hypervisor ? { hypervisor: o.hypervisor } : {});
      ctx.print(guests, (gs) =>
        gs.length === 0
          ? 'no guests found'
          : gs.map((g) => `${g.name.padEnd(30)} ${g.hypervisor.padEnd(7)} ${g.state.padEnd(10)} ${`${g.memoryMiB ?? '?'} MiB`.padEnd(10)} ${g.id}  ${g.folder ?? ''}`).join('\n'),
      );
    });
};
