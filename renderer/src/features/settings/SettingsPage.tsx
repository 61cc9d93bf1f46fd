import { useEffect, useState } from 'react';
import Box from '@mui/material/Box';
import type { Settings } from '../../../../shared/domain/engine.js';
import { friendlyError, type FriendlyError } from '../../app/error-messages.js';
import { ErrorNotice } from '../../components/LoadState.js';
import Card from '@mui/material/Card';
import CardContent from '@mui/material/CardContent';
import Typography from '@mui/material/Typography';
import { LoadState } from '../../components/LoadState.js';
import { PageHeader } from '../../components/PageHeader.js';
import { useApp, useEngine } from '../../stores/hooks.js';
import { GeneralSettings } from './GeneralSettings.js';
import { NotificationSettings } from './NotificationSettings.js';
import { EngineInfo } from './EngineInfo.js';
import { ServiceStatusPanel } from './ServiceStatusPanel.js';
import { DoctorResults } from './DoctorResults.js';
import { HypervisorList } from './HypervisorList.js';
import { ThemePicker } from './ThemePicker.js';
import { RepositoryChooser } from './RepositoryChooser.js';

function Section({ title, children }: { title: string; children: React.ReactNode }) {
  return (
    <Card variant="outlined" component="section" aria-label={title}>
      <CardContent>
        <Typography variant="h2" sx={{ mb: 1 }}>
          {title}
        </Typography>
        {children}
      </CardContent>
    </Card>
  );
}

/** Settings: detected hypervisor tools, engine facts, theme. */
export function SettingsPage() {
  const status = useApp((s) => s.status);
  const refresh = useApp((s) => s.refreshStatus);
  const engine = useEngine();
  const [settings, setSettings] = useState<Settings | null>(null);
  const [error, setError] = useState<FriendlyError | null>(null);
  useEffect(() => {
    engine['settings.get']({})
      .then(setSettings)
      .catch((e) => setError(friendlyError(e)));
  }, [engine]);
  return (
    <>
      <PageHeader title="Settings" subtitle="Hypervisor tools, repository, notifications and appearance" />
      <Box sx={{ display: 'grid', gap: 2, gridTemplateColumns: { xs: '1fr', lg: '1fr 1fr' } }}>
        <Section title="Hypervisors">
          <LoadState value={status} what="Engine status" onRetry={() => void refresh()}>
            {(s) => <HypervisorList hypervisors={s.hypervisors} />}
          </LoadState>
        </Section>
        <Section title="Host self-test (doctor)">
          <DoctorResults />
        </Section>
        <Section title="Engine">
          <LoadState value={status} what="Engine status" onRetry={() => void refresh()}>
            {(s) => <EngineInfo status={s} />}
          </LoadState>
        </Section>
        <Section title="Background service">
          <ServiceStatusPanel />
        </Section>
        <Section title="Repository">{settings && <RepositoryChooser key={settings.repository} current={settings.repository} onChanged={setSettings} />}</Section>
        <Section title="Hypervisor tools and VM folders">
          {error && <ErrorNotice error={error} what="Settings" />}
          {settings && <GeneralSettings settings={settings} onSaved={setSettings} />}
        </Section>
        <Section title="Notifications">{settings && <NotificationSettings settings={settings} onSaved={setSettings} />}</Section>
        <Section title="Appearance">
          <ThemePicker />
        </Section>
      </Box>
    </>
  );
}
