import { PageHeader } from '../../components/PageHeader.js';

/** Repository page. */
export function RepositoryPage() {
  return <PageHeader title="Repository" subtitle="Where backups are stored, how much space they use, and their health" />;
}
