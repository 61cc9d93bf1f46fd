/**
 * Functions every TwinSnap Hyper-V script can use (Windows PowerShell 5.1 syntax). Facts behind
 * them (reference hyper-v.md): module-qualified cmdlets (§1.1, PowerCLI also exports Get-VM),
 * resolve VMs by `-Id` only (names are not unique and `-Name` takes wildcards, §1.2), enums
 * emitted as names with `.ToString()` (numbers drift between Windows versions, §1.2, §1.11),
 * integration services matched by their well-known id as well as the English name (names are
 * localised), operational status by enum name. A function's array output is unrolled by
 * PowerShell (one element → a bare object), so every call site re-wraps it with `@(...)`.
 */
export const PRELUDE = String.raw`
function TS-Vm([string]$id) {
  $g = [Guid]::Empty
  if (-not [Guid]::TryParse($id, [ref]$g)) { throw ('TWINSNAP:VM_NOT_FOUND not a vm id') }
  $vm = Hyper-V\Get-VM -Id $g -ErrorAction SilentlyContinue
  if (-not $vm) { throw ('TWINSNAP:VM_NOT_FOUND ' + $g.ToString()) }
  $vm
}
function TS-Enum($v) { if ($null -eq $v) { '' } else { $v.ToString() } }
function TS-IsIc($ic, [string]$name, [string]$guid) {
  ([string]$ic.Name -eq $name) -or ([string]$ic.Id -like ('*' + $guid))
}
function TS-Ics($vm) {
  @(Hyper-V\Get-VMIntegrationService -VM $vm | ForEach-Object {
    $kind = ''
    if (TS-IsIc $_ 'Shutdown' '9F8233AC-BE49-4C79-8EE3-E7E1985B2077') { $kind = 'shutdown' }
    elseif (TS-IsIc $_ 'Heartbeat' '84EAAE65-2F2E-45F5-9BB5-0E857DC8EB47') { $kind = 'heartbeat' }
    [pscustomobject]@{ name = [string]$_.Name; kind = $kind; enabled = [bool]$_.Enabled; status = (TS-Enum $_.PrimaryOperationalStatus) }
  })
}
function TS-Disks($drives) {
  @($drives | ForEach-Object {
    [pscustomobject]@{ slot = ((TS-Enum $_.ControllerType) + ' ' + [string]$_.ControllerNumber + ' ' + [string]$_.ControllerLocation); path = [string]$_.Path }
  })
}
function TS-TwinIds([string]$dir) {
  $marker = Join-Path $dir '.twinsnap-twin'
  if (-not [IO.File]::Exists($marker)) { throw 'TWINSNAP:NOT_A_TWIN_FOLDER refusing to touch a folder without the twinsnap marker' }
  @([IO.File]::ReadAllLines($marker) | Select-Object -Skip 1 | ForEach-Object { $_.Trim().ToLowerInvariant() } | Where-Object { $_ })
}
function TS-RemoveTwinVms([string]$dir, $ids) {
  $inside = $dir.TrimEnd([char]'\', [char]'/') + [IO.Path]::DirectorySeparatorChar
  $n = 0
  foreach ($vm in @(Hyper-V\Get-VM | Where-Object { @($ids) -contains $_.Id.ToString().ToLowerInvariant() -and ([string]$_.Path + [IO.Path]::DirectorySeparatorChar).StartsWith($inside, [StringComparison]::OrdinalIgnoreCase) })) {
    if ((TS-Enum $vm.State) -ne 'Off') { Hyper-V\Stop-VM -VM $vm -TurnOff -Force -Confirm:$false }
    Hyper-V\Remove-VM -VM $vm -Force
    $n++
  }
  $n
}
function TS-VmInfo($vm) {
  $shielded = $false
  try { $shielded = [bool](Hyper-V\Get-VMSecurity -VM $vm -ErrorAction Stop).Shielded } catch { }
  $mem = [math]::Max([int64]$vm.MemoryAssigned, [int64]$vm.MemoryStartup)
  [pscustomobject]@{
    id = $vm.Id.ToString(); name = [string]$vm.Name; state = (TS-Enum $vm.State); status = [string]$vm.Status
    memoryMiB = [int64]($mem / 1048576); cpus = [int]$vm.ProcessorCount; generation = [int]$vm.Generation
    checkpointType = (TS-Enum $vm.CheckpointType); path = [string]$vm.Path
    disks = @(TS-Disks (Hyper-V\Get-VMHardDiskDrive -VM $vm))
    nics = @(Hyper-V\Get-VMNetworkAdapter -VM $vm | ForEach-Object { [pscustomobject]@{ name = [string]$_.Name; switchName = [string]$_.SwitchName; connected = [bool]$_.Connected } })
    integrationServices = @(TS-Ics $vm); shielded = $shielded
  }
}
`;
