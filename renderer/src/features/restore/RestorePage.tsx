import { PageHeader } from '../../components/PageHeader.js';

/** Restore page. */
export function RestorePage() {
  return <PageHeader title="Restore" subtitle="Bring back a whole VM, its disks or single files from any restore point" />;
}
