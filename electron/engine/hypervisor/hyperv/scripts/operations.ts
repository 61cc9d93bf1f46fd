/**
 * The bodies of TwinSnap's Hyper-V operations (Windows PowerShell 5.1). Each reads its inputs from
 * `$a` (decoded from base64 JSON by the wrapper — values are never part of the script text) and
 * sets `$result`. Failures TwinSnap detects itself are thrown as `TWINSNAP:<CODE> <words>` and
 * classified in classify-ps-error.ts. Sources: reference hyper-v.md §1.4–1.10 and §6.
 */

/** Names of the operations; each script carries `# twinsnap-op: <name>` as its first line. */
export type HyperVOp =
  | 'probe'
  | 'list-vms'
  | 'get-vm'
  | 'freeze'
  | 'build-twin'
  | 'start-vm'
  | 'import-restored'
  | 'integration-state'
  | 'stop-graceful'
  | 'turn-off'
  | 'remove-twin'
  | 'release-checkpoint'
  | 'find-leftovers'
  | 'list-leftovers'
  | 'host-paths'
  | 'guest-role'
  | 'list-switches';

/** Script bodies by operation. */
export const OPERATIONS: Record<HyperVOp, string> = {
  // Elevation: Administrators role, or membership of BUILTIN\Hyper-V Administrators (well-known
  // SID S-1-5-32-578; the group name is localised). Without either, Get-VM silently returns
  // nothing (reference §1.1), so this is checked before anything else.
  probe: String.raw`
$p = New-Object Security.Principal.WindowsPrincipal([Security.Principal.WindowsIdentity]::GetCurrent())
$hvAdmin = $false
try { $hvAdmin = $p.IsInRole([Security.Principal.SecurityIdentifier]'S-1-5-32-578') } catch { }
$result = [pscustomobject]@{
  psVersion = $PSVersionTable.PSVersion.ToString(); psEdition = [string]$PSVersionTable.PSEdition
  elevated = $p.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator); hyperVAdmin = $hvAdmin
  module = [bool](Get-Module -ListAvailable -Name Hyper-V)
}`,

  'list-vms': String.raw`
$result = @(Hyper-V\Get-VM | ForEach-Object { TS-VmInfo $_ })`,

  'get-vm': String.raw`
$result = TS-VmInfo (TS-Vm $a.id)`,

  // A Standard checkpoint captures disks and memory (Production ones have no memory, §1.4). The
  // VM's own checkpoint type is switched to Standard only for this call and restored after.
  freeze: String.raw`
$vm = TS-Vm $a.id
if ((TS-Enum $vm.State) -ne 'Running') { throw ('TWINSNAP:BAD_STATE the vm is ' + (TS-Enum $vm.State) + ', not running') }
$before = @(Hyper-V\Get-VMHardDiskDrive -VM $vm | ForEach-Object { [string]$_.Path })
$orig = $vm.CheckpointType
$changed = $false
if ((TS-Enum $orig) -ne 'Standard') { Hyper-V\Set-VM -VM $vm -CheckpointType Standard; $changed = $true }
try { $snap = Hyper-V\Checkpoint-VM -VM $vm -SnapshotName $a.snapshotName -Passthru }
finally { if ($changed) { Hyper-V\Set-VM -VM $vm -CheckpointType $orig } }
$after = @(Hyper-V\Get-VMHardDiskDrive -VM $vm | ForEach-Object { [string]$_.Path })
$result = [pscustomobject]@{
  snapshotId = $snap.Id.ToString()
  frozenDisks = @(TS-Disks (Hyper-V\Get-VMHardDiskDrive -VMSnapshot $snap))
  newDiskFiles = @($after | Where-Object { $before -notcontains $_ })
  state = (TS-Enum (TS-Vm $a.id).State)
}`,

  // Export the checkpoint (the one copy of the disks, made while production runs), then import
  // the export IN PLACE as a VM with a new id: Compare-VM -Copy -GenerateNewId with
  // -VhdSourcePath and -VhdDestinationPath both the export's 'Virtual Hard Disks' folder. The
  // module copies VHDs only when those two paths differ (compared as strings, ignoring case;
  // reference hyperv-cmdlet-signatures.md §3.4 and the decompiled VMCompatibilityReport /
  // PerformStorageCopyForImport it cites), so the twin runs on the exported disks themselves;
  // only its configuration and memory state are copied under 'Virtual Machines'. The export's
  // own memory state is then deleted (the twin has its copy; one that cannot be deleted goes
  // with the twin folder); its configuration (.vmcx, .vmgs)
  // stays for the snapshot (configFiles) until the twin folder is removed. Then: rename,
  // disconnect every network adapter (also the ones Compare-VM reports for missing switches),
  // verify none is connected (§1.7, §1.8, §6.3–6.4). The marker file names production's id on
  // its first line and each VM imported into the folder on the next ones: clean-up removes only
  // those. Automatic checkpoints (on by default for VMs created on Windows 10/11) would be taken
  // when the twin starts and merged at its shutdown, under the archive: they are switched off
  // and the twin's checkpoint type set to Disabled, and both are verified, before the twin can
  // start (-AutomaticCheckpointsEnabled exists only where the feature does: Windows 10 1709 /
  // Server 2019 and later). hostBytesWritten: every file in the twin folder once the import is
  // done (the export and the import's copies), measured, not estimated.
  'build-twin': String.raw`
$snap = Hyper-V\Get-VMSnapshot -Id ([Guid]::Parse([string]$a.snapshotId))
$root = [string]$a.twinsRoot
if (-not $root) { $root = Join-Path (Hyper-V\Get-VMHost).VirtualMachinePath 'TwinSnap' }
$dir = Join-Path $root ([string]$a.folderName)
$export = Join-Path $dir 'export'
[void][IO.Directory]::CreateDirectory($export)
$marker = Join-Path $dir '.twinsnap-twin'
[IO.File]::WriteAllText($marker, [string]$a.vmId + [Environment]::NewLine)
Hyper-V\Export-VMSnapshot -VMSnapshot $snap -Path $export
$config = Get-ChildItem -LiteralPath $export -Recurse -File | Where-Object { $_.Extension -eq '.vmcx' -or ($_.Extension -eq '.xml' -and $_.Directory.Name -eq 'Virtual Machines') } | Select-Object -First 1
if (-not $config) { throw 'TWINSNAP:EXPORT_INCOMPLETE the export holds no virtual machine configuration' }
$vhd = Join-Path $config.Directory.Parent.FullName 'Virtual Hard Disks'
$vmDir = Join-Path $dir 'Virtual Machines'
$report = Hyper-V\Compare-VM -Path $config.FullName -Copy -GenerateNewId -VirtualMachinePath $vmDir -SnapshotFilePath $vmDir -SmartPagingFilePath $vmDir -VhdSourcePath $vhd -VhdDestinationPath $vhd
[IO.File]::AppendAllText($marker, $report.VM.Id.ToString() + [Environment]::NewLine)
foreach ($i in @($report.Incompatibilities)) {
  if ($i.MessageId -eq 33012) { $i.Source | Hyper-V\Disconnect-VMNetworkAdapter }
  else { throw ('TWINSNAP:IMPORT_INCOMPATIBLE ' + [string]$i.Message) }
}
$twin = Hyper-V\Import-VM -CompatibilityReport $report
if ($twin.Id -ne $report.VM.Id) { [IO.File]::AppendAllText($marker, $twin.Id.ToString() + [Environment]::NewLine) }
Hyper-V\Rename-VM -VM $twin -NewName ([string]$a.twinName)
Hyper-V\Get-VMNetworkAdapter -VM $twin | Hyper-V\Disconnect-VMNetworkAdapter
if (@(Hyper-V\Get-VMNetworkAdapter -VM $twin | Where-Object { $_.Connected }).Count -gt 0) { throw 'TWINSNAP:NIC_CONNECTED a twin network adapter is still connected' }
if ((Get-Command -Name 'Hyper-V\Set-VM').Parameters.ContainsKey('AutomaticCheckpointsEnabled')) { Hyper-V\Set-VM -VM $twin -AutomaticCheckpointsEnabled $false }
Hyper-V\Set-VM -VM $twin -CheckpointType Disabled
$check = TS-Vm $twin.Id.ToString()
if ((TS-Enum $check.CheckpointType) -ne 'Disabled' -or ($check.PSObject.Properties['AutomaticCheckpointsEnabled'] -and $check.AutomaticCheckpointsEnabled)) { throw 'TWINSNAP:CHECKPOINTS_ON the twin would take checkpoints when it starts' }
$written = [int64](Get-ChildItem -LiteralPath $dir -Recurse -File | Measure-Object -Property Length -Sum).Sum
$configFiles = @()
foreach ($f in @(Get-ChildItem -LiteralPath $config.Directory.FullName -File)) {
  $ext = $f.Extension.ToLowerInvariant()
  if (@('.vmcx', '.vmgs', '.xml') -contains $ext) { $configFiles += [pscustomobject]@{ name = $f.Name; path = $f.FullName } }
  elseif (@('.vmrs', '.bin', '.vsv', '.vmem') -contains $ext) { try { Remove-Item -LiteralPath $f.FullName -Force -ErrorAction Stop } catch { } }
}
$result = [pscustomobject]@{ twin = (TS-VmInfo $check); folder = $dir; hostBytesWritten = $written; configFiles = @($configFiles) }`,

  // A restored VM folder (configuration + disks side by side, the disks under the file names the
  // configuration gives them) imported as a VM of its own: Import-VM -Copy -GenerateNewId (a new
  // id, so it runs beside the original, §1.7) with -VhdSourcePath and -VhdDestinationPath both
  // the restored folder — so the disks are used where they were restored, not copied again
  // (§3.4 of the cmdlet reference) — the configuration under 'Virtual Machines', then Rename-VM
  // to the chosen name. Every network adapter is left disconnected (a copy of production must not
  // come up on production's network with its addresses); the user connects it in Hyper-V
  // Manager. The restored configuration and memory-state files at the top of the folder were
  // copied by the import and are removed; a file that cannot be removed is reported, not fatal.
  // The restored VM's adapters (a.network, RestoreNetwork): 'disconnected' — every adapter
  // disconnected (a copy beside the running original must not meet it on the LAN); 'network' —
  // every adapter connected to that switch, which is checked to exist before anything is imported;
  // 'original' — the switches the configuration names, those the host lacks disconnected (33012).
  'import-restored': String.raw`
$dir = [string]$a.folder
$net = $a.network
$netKind = 'disconnected'
if ($null -ne $net) { $netKind = [string]$net.kind }
if ($netKind -eq 'network') {
  $switchName = [string]$net.name
  if (@(Hyper-V\Get-VMSwitch | Where-Object { [string]$_.Name -eq $switchName }).Count -eq 0) { throw ('TWINSNAP:NETWORK_NOT_FOUND there is no virtual switch named ' + $switchName + ' on this host') }
}
$config = @(Get-ChildItem -LiteralPath $dir -File | Where-Object { $_.Extension -eq '.vmcx' })
if ($config.Count -ne 1) { throw ('TWINSNAP:VM_NOT_FOUND the restored folder holds ' + $config.Count + ' .vmcx files, expected one') }
$vmDir = Join-Path $dir 'Virtual Machines'
$report = Hyper-V\Compare-VM -Path $config[0].FullName -Copy -GenerateNewId -VhdSourcePath $dir -VirtualMachinePath $vmDir -SnapshotFilePath $vmDir -SmartPagingFilePath $vmDir -VhdDestinationPath $dir
foreach ($i in @($report.Incompatibilities)) {
  if ($i.MessageId -eq 33012) { $i.Source | Hyper-V\Disconnect-VMNetworkAdapter }
  else { throw ('TWINSNAP:IMPORT_INCOMPATIBLE ' + [string]$i.Message) }
}
$vm = Hyper-V\Import-VM -CompatibilityReport $report
Hyper-V\Rename-VM -VM $vm -NewName ([string]$a.name)
$nics = @(Hyper-V\Get-VMNetworkAdapter -VM $vm)
if ($netKind -eq 'network') { if ($nics.Count) { Hyper-V\Connect-VMNetworkAdapter -VMNetworkAdapter $nics -SwitchName $switchName } }
elseif ($netKind -ne 'original') { if ($nics.Count) { Hyper-V\Disconnect-VMNetworkAdapter -VMNetworkAdapter $nics } }
$left = @()
foreach ($f in @(Get-ChildItem -LiteralPath $dir -File | Where-Object { @('.vmcx', '.vmgs', '.vmrs') -contains $_.Extension.ToLowerInvariant() })) {
  try { Remove-Item -LiteralPath $f.FullName -Force -ErrorAction Stop } catch { $left += $f.Name }
}
$result = [pscustomobject]@{ vm = (TS-VmInfo (TS-Vm $vm.Id.ToString())); configPath = $vmDir; notRemoved = @($left) }`,

  // Running stays running; Paused is resumed (Resume-VM); Off/Saved are started (a Saved VM
  // resumes its memory state on Start-VM, §1.5).
  'start-vm': String.raw`
$vm = TS-Vm $a.id
$st = TS-Enum $vm.State
if ($st -eq 'Paused') { Hyper-V\Resume-VM -VM $vm }
elseif ($st -ne 'Running') { Hyper-V\Start-VM -VM $vm }
$result = [pscustomobject]@{ state = (TS-Enum (TS-Vm $a.id).State) }`,

  'integration-state': String.raw`
$vm = TS-Vm $a.id
$result = [pscustomobject]@{ state = (TS-Enum $vm.State); integrationServices = @(TS-Ics $vm) }`,

  // The Shutdown integration component's OS shutdown in its FORCED form
  // (Msvm_ShutdownComponent.InitiateShutdown(Force=true, Reason)): still an orderly shutdown of
  // the guest OS (services stop, databases flush), but a locked console session cannot refuse it
  // (an unforced request answers 32781, "locked and cannot be shut down without the force
  // option"). Never Stop-VM -Force: on a VM without a working Shutdown service it silently powers
  // off (§1.5). The method returns at once; the script polls until the VM is Off, bounded by
  // waitMs. The instance is picked with Where-Object, so no value is built into a WQL filter.
  'stop-graceful': String.raw`
$vm = TS-Vm $a.id
$method = 'already off'
if ((TS-Enum $vm.State) -ne 'Off') {
  $sd = @(TS-Ics $vm | Where-Object { $_.kind -eq 'shutdown' })
  if ($sd.Count -eq 0 -or -not $sd[0].enabled -or $sd[0].status -ne 'Ok') { throw 'TWINSNAP:SHUTDOWN_IC_UNAVAILABLE the shutdown integration service is not running in the guest' }
  $vmId = $vm.Id.ToString()
  $comp = @(CimCmdlets\Get-CimInstance -Namespace 'root\virtualization\v2' -ClassName 'Msvm_ShutdownComponent' | Where-Object { [string]$_.SystemName -eq $vmId })
  if ($comp.Count -ne 1) { throw 'TWINSNAP:SHUTDOWN_IC_UNAVAILABLE the shutdown integration component of the vm was not found' }
  $r = CimCmdlets\Invoke-CimMethod -InputObject $comp[0] -MethodName 'InitiateShutdown' -Arguments @{ Force = $true; Reason = 'TwinSnap: clean shutdown of a backup twin' }
  $rv = [int]$r.ReturnValue
  if ($rv -ne 0 -and $rv -ne 4096) { throw ('TWINSNAP:SHUTDOWN_REFUSED the guest refused the shutdown request (InitiateShutdown returned ' + $rv + ')') }
  $method = 'Msvm_ShutdownComponent.InitiateShutdown(Force=true)'
  $deadline = [DateTime]::UtcNow.AddMilliseconds([double]$a.waitMs)
  while ((TS-Enum (TS-Vm $a.id).State) -ne 'Off') {
    if ([DateTime]::UtcNow -gt $deadline) { throw 'TWINSNAP:SHUTDOWN_TIMEOUT the vm did not power off in time' }
    Start-Sleep -Milliseconds 500
  }
}
$result = [pscustomobject]@{ state = (TS-Enum (TS-Vm $a.id).State); method = $method }`,

  // A deliberate hard power-off, only for clean-up or after a graceful attempt failed.
  'turn-off': String.raw`
$vm = Hyper-V\Get-VM -Id ([Guid]::Parse([string]$a.id)) -ErrorAction SilentlyContinue
if ($vm -and (TS-Enum $vm.State) -ne 'Off') { Hyper-V\Stop-VM -VM $vm -TurnOff -Force -Confirm:$false }
$result = [pscustomobject]@{ gone = (-not $vm) }`,

  // Remove-VM keeps the disks (§1.7), so the twin folder is deleted too. The marker is checked
  // FIRST, and only VMs whose configuration lies inside that marked folder AND whose id the job
  // recorded (or build-twin wrote into the marker) are turned off and removed: a damaged journal
  // naming production's id or folder touches nothing.
  'remove-twin': String.raw`
$dir = [string]$a.folder
if (-not $dir -and $a.folderName) {
  $root = [string]$a.twinsRoot
  if (-not $root) { $root = Join-Path (Hyper-V\Get-VMHost).VirtualMachinePath 'TwinSnap' }
  $dir = Join-Path $root ([string]$a.folderName)
}
$removed = 0
if ($dir -and [IO.Directory]::Exists($dir)) {
  $ids = @(TS-TwinIds $dir)
  if ($a.id) { $ids += ([string]$a.id).ToLowerInvariant() }
  $removed = TS-RemoveTwinVms $dir $ids
  Remove-Item -LiteralPath $dir -Recurse -Force
}
$result = [pscustomobject]@{ removed = $true; vms = $removed }`,

  // Removing the checkpoint merges its .avhdx files into their parents; the cmdlet may return
  // before the merge ends (§1.4), so wait until those files are gone.
  'release-checkpoint': String.raw`
$snap = Hyper-V\Get-VMSnapshot -Id ([Guid]::Parse([string]$a.snapshotId)) -ErrorAction SilentlyContinue
if ($snap) { Hyper-V\Remove-VMSnapshot -VMSnapshot $snap -Confirm:$false }
$deadline = [DateTime]::UtcNow.AddMilliseconds([double]$a.waitMs)
while ($true) {
  $pending = @(@($a.mergeFiles) | Where-Object { $_ -and [IO.File]::Exists([string]$_) })
  if ($pending.Count -eq 0) { break }
  if ([DateTime]::UtcNow -gt $deadline) { throw 'TWINSNAP:MERGE_TIMEOUT the checkpoint merge did not finish in time' }
  Start-Sleep -Milliseconds 500
}
$result = [pscustomobject]@{ released = $true; existed = [bool]$snap }`,

  // Crash recovery when no handle was journaled: delete twin folders (and their VMs) whose marker
  // names this VM, and report its checkpoints named twinsnap-… for the caller to release.
  'find-leftovers': String.raw`
$root = [string]$a.twinsRoot
if (-not $root) { $root = Join-Path (Hyper-V\Get-VMHost).VirtualMachinePath 'TwinSnap' }
$removed = @()
if ([IO.Directory]::Exists($root)) {
  foreach ($d in @(Get-ChildItem -LiteralPath $root -Directory | Where-Object { $_.Name.StartsWith('twinsnap-twin-') })) {
    $marker = Join-Path $d.FullName '.twinsnap-twin'
    if (-not [IO.File]::Exists($marker) -or @([IO.File]::ReadAllLines($marker))[0].Trim() -ne [string]$a.vmId) { continue }
    [void](TS-RemoveTwinVms $d.FullName @(TS-TwinIds $d.FullName))
    Remove-Item -LiteralPath $d.FullName -Recurse -Force
    $removed += $d.FullName
  }
}
$ids = @()
$g = [Guid]::Empty
if ([Guid]::TryParse([string]$a.vmId, [ref]$g)) {
  $vm = Hyper-V\Get-VM -Id $g -ErrorAction SilentlyContinue
  if ($vm) { $ids = @(Hyper-V\Get-VMSnapshot -VM $vm | Where-Object { ([string]$_.Name).StartsWith('twinsnap-') } | ForEach-Object { $_.Id.ToString() }) }
}
$result = [pscustomobject]@{ removedTwinFolders = $removed; checkpointIds = $ids }`,

  // Where twins are built (the adapter's folder, else <VirtualMachinePath>\TwinSnap): the engine
  // counts the backup's writes against that volume before anything is frozen, and watches the
  // twin folder's bytes grow while the export runs (its progress).
  'host-paths': String.raw`
$root = [string]$a.twinsRoot
if (-not $root) { $root = Join-Path (Hyper-V\Get-VMHost).VirtualMachinePath 'TwinSnap' }
$result = [pscustomobject]@{ twinsRoot = $root }`,

  // What the host can tell about the guest's role: the KVP intrinsic item ProductType the guest's
  // Data Exchange service reports (Msvm_KvpExchangeComponent.GuestIntrinsicExchangeItems, each an
  // embedded Msvm_KvpExchangeDataItem with Name and Data; 2 = VER_NT_DOMAIN_CONTROLLER, MS-RPRN
  // 2.2.3.10.3), and the VM's notes. Nothing readable (no KVP service, guest not running) is
  // reported as unknown, not as "not a domain controller".
  'guest-role': String.raw`
$vm = TS-Vm $a.id
$vmId = $vm.Id.ToString()
$productType = ''
$kvp = $false
try {
  $comp = @(CimCmdlets\Get-CimInstance -Namespace 'root\virtualization\v2' -ClassName 'Msvm_KvpExchangeComponent' -ErrorAction Stop | Where-Object { [string]$_.SystemName -eq $vmId })
  foreach ($item in @($comp | ForEach-Object { @($_.GuestIntrinsicExchangeItems) })) {
    if (-not $item) { continue }
    $kvp = $true
    $x = [xml][string]$item
    $name = [string](@($x.INSTANCE.PROPERTY | Where-Object { $_.NAME -eq 'Name' })[0].VALUE)
    if ($name -eq 'ProductType') { $productType = [string](@($x.INSTANCE.PROPERTY | Where-Object { $_.NAME -eq 'Data' })[0].VALUE) }
  }
} catch { }
$notes = ''
if ($vm.PSObject.Properties['Notes']) { $notes = [string]$vm.Notes }
$result = [pscustomobject]@{ kvp = $kvp; productType = $productType; notes = $notes }`,

  // Read-only twin of find-leftovers (doctor, tests): what TwinSnap left for this VM, removing
  // nothing — marked twin folders and the VMs registered in them, `twinsnap-` checkpoints.
  'list-leftovers': String.raw`
$root = [string]$a.twinsRoot
if (-not $root) { $root = Join-Path (Hyper-V\Get-VMHost).VirtualMachinePath 'TwinSnap' }
$found = @()
if ([IO.Directory]::Exists($root)) {
  foreach ($d in @(Get-ChildItem -LiteralPath $root -Directory | Where-Object { $_.Name.StartsWith('twinsnap-twin-') })) {
    $marker = Join-Path $d.FullName '.twinsnap-twin'
    if (-not [IO.File]::Exists($marker) -or [IO.File]::ReadAllText($marker).Trim() -ne [string]$a.vmId) { continue }
    $found += ('twin folder ' + $d.FullName)
    foreach ($t in @(Hyper-V\Get-VM | Where-Object { ([string]$_.Path).StartsWith($d.FullName, [StringComparison]::OrdinalIgnoreCase) })) { $found += ('twin vm ' + $t.Name + ' (' + $t.Id.ToString() + ')') }
  }
}
$g = [Guid]::Empty
if ([Guid]::TryParse([string]$a.vmId, [ref]$g)) {
  $vm = Hyper-V\Get-VM -Id $g -ErrorAction SilentlyContinue
  if ($vm) { foreach ($c in @(Hyper-V\Get-VMSnapshot -VM $vm | Where-Object { ([string]$_.Name).StartsWith('twinsnap-') })) { $found += ('checkpoint ' + $c.Name + ' (' + $c.Id.ToString() + ')') } }
}
$result = [pscustomobject]@{ leftovers = @($found) }`,

  // The host's virtual switches (Get-VMSwitch): what a restored VM's adapters may be connected to.
  'list-switches': String.raw`
$result = @(Hyper-V\Get-VMSwitch | ForEach-Object { [pscustomobject]@{ name = [string]$_.Name; switchType = (TS-Enum $_.SwitchType); description = [string]$_.NetAdapterInterfaceDescription } })`,
};
