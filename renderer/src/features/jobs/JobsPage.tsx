import { PageHeader } from '../../components/PageHeader.js';

/** Jobs page. */
export function JobsPage() {
  return <PageHeader title="Jobs" subtitle="Running and recent backups, restores and maintenance" />;
}
