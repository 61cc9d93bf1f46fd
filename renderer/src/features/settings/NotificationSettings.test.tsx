import { describe, expect, it } from 'vitest';
import { fireEvent, screen, waitFor } from '@testing-library/react';
import { AppError } from '../../../../shared/errors/app-error.js';
import type { Settings } from '../../../../shared/domain/engine.js';
import { fakeEngine } from '../../test/fakes.js';
import { renderWithServices } from '../../test/render.js';
import { makeTheme } from '../../app/theme.js';
import { NotificationSettings, notificationProblems } from './NotificationSettings.js';

const settings: Settings = { repository: '/r', vmFolders: [], maxConcurrentTwins: 1, theme: 'system', notifications: { onSuccess: false } };

describe('notification settings', () => {
  it('names the field that is wrong instead of "TwinSnap rejected the request", and sends nothing', async () => {
    const engine = fakeEngine();
    const { store } = renderWithServices(<NotificationSettings settings={settings} onSaved={() => {}} />, engine);
    fireEvent.change(screen.getByLabelText('SMTP server'), { target: { value: 'smtp.example.com' } });
    fireEvent.change(screen.getByLabelText('From'), { target: { value: 'twinsnap@example.com' } });
    fireEvent.change(screen.getByLabelText('To'), { target: { value: 'ops@example.com, boss' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save notifications' }));
    await waitFor(() => expect(screen.getByText('one or more e-mail addresses, separated by commas')).toBeTruthy());
    expect(engine.calls.filter((c) => c.method === 'settings.set')).toEqual([]);
    expect(store.getState().notices.at(-1)?.message).toBe('E-mail: To: one or more e-mail addresses, separated by commas');
  });

  it('maps the engine naming a field to that field', async () => {
    const engine = fakeEngine({
      'settings.set': async () => {
        throw new AppError('INVALID_REQUEST', "invalid request for 'settings.set': patch.notifications.webhookUrl: Invalid URL");
      },
    });
    const { store } = renderWithServices(<NotificationSettings settings={settings} onSaved={() => {}} />, engine);
    fireEvent.change(screen.getByLabelText('Webhook URL'), { target: { value: 'https://hooks.example.com/x' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save notifications' }));
    await waitFor(() => expect(store.getState().notices.at(-1)?.message).toBe('Webhook URL: Invalid URL'));
  });

  it('accepts a list of recipients and an https webhook', () => {
    expect(notificationProblems({ host: 'h', port: '587', from: 'a@b.c', to: 'x@y.z, w@v.u' }, 'https://h.example/x')).toEqual({});
  });

  it('the keyboard focus ring is a solid high-contrast outline in the dark theme', () => {
    const dark = makeTheme('dark').components!.MuiButtonBase!.styleOverrides!.root as Record<string, { outline: string }>;
    expect(dark['&.Mui-focusVisible']!.outline).toBe('2px solid #ffffff');
  });
});
