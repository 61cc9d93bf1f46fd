import type { HandlerFactory } from './handlers.js';

/** guests.list: every VM of every available adapter, with its identity; guests.resolve: id or unique name → guest. */
export const guestHandlers: HandlerFactory = (ctx) => ({
  'guests.list': async ({ hypervisor }) => {
    const live = await ctx.guests.live(hypervisor);
    return live.map((l) => l.guest).sort((a, b) => a.name.localeCompare(b.name) || (a.folder ?? '').localeCompare(b.folder ?? ''));
  },
  'guests.resolve': async ({ guest }) => {
    const { id, name, hypervisor, folder, present } = await ctx.guests.resolve(guest);
    return { id, name, ...(hypervisor ? { hypervisor } : {}), ...(folder ? { folder } : {}), present };
  },
});
