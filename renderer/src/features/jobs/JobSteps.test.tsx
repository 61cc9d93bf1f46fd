import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, render, screen } from '@testing-library/react';
import { ThemeProvider } from '@mui/material/styles';
import { makeTheme } from '../../app/theme.js';
import { JobSteps } from './JobSteps.js';

afterEach(cleanup);

describe('JobSteps', () => {
  it('a running step whose start is ahead of this browser clock shows 0 s, never a negative time', () => {
    const now = Date.parse('2026-06-01T10:00:00Z');
    render(
      <ThemeProvider theme={makeTheme('light')}>
        <JobSteps now={now} steps={[{ id: 'archive', label: 'Archive', status: 'running', startedAt: '2026-06-01T10:00:03Z' }]} />
      </ThemeProvider>,
    );
    const row = screen.getByTestId('job-steps').querySelector('[data-step=archive]')!;
    expect(row.textContent).not.toMatch(/-\d/);
    expect(row.textContent).toMatch(/0\s*(ms|s)/);
  });

  it('the running spinner keeps its 20 px box (it shrank to a 2-px sliver in the flex row)', () => {
    render(
      <ThemeProvider theme={makeTheme('light')}>
        <JobSteps now={0} steps={[{ id: 'boot', label: 'Boot twin', status: 'running' }]} />
      </ThemeProvider>,
    );
    const spinner = screen.getByTestId('step-spinner');
    const style = getComputedStyle(spinner);
    expect(style.minWidth).toBe('20px');
    expect(style.flexShrink).toBe('0');
  });
});
