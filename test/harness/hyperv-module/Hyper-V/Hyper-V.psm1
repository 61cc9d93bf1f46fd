# Stand-in for Microsoft's Hyper-V PowerShell module, for TwinSnap's tests: the cmdlets TwinSnap's
# scripts call, with the real parameter sets, mandatory parameters, validation, pipeline bindings,
# output types (../StandInTypes.cs) and error model (non-terminating errors, ShouldContinue prompts),
# as Microsoft's reference documents them (pages cited per cmdlet in ../README.md). The host they
# act on is simulated (test/harness/hyperv-sim/lib/host-backend.mjs) and runs real QEMU guests.
Set-StrictMode -Version 3

. (Join-Path $PSScriptRoot 'host-client.ps1')

function New-HvObject([string]$Type, $Values) {
  $o = New-Object -TypeName ('Microsoft.HyperV.PowerShell.' + $Type)
  $o.StandInFill($Values)
  $o
}

function Assert-Local($Cmdlet) {
  foreach ($n in 'CimSession', 'ComputerName', 'Credential') {
    if ($Cmdlet.MyInvocation.BoundParameters.ContainsKey($n)) {
      $Cmdlet.ThrowTerminatingError([Management.Automation.ErrorRecord]::new([NotSupportedException]::new("hyperv-sim: -$n (remote hosts) is not simulated"), 'NotSimulated', 'NotImplemented', $null))
    }
  }
}

function Get-HvVMs($Cmdlet, [string[]]$Name) {
  $all = (Invoke-Hv $Cmdlet 'vms' @{} $null).value
  if (-not $Name) { foreach ($v in @($all)) { New-HvObject 'VirtualMachine' $v }; return }
  foreach ($n in $Name) {
    $hit = @(@($all) | Where-Object { $_.Name -like $n })
    if ($hit.Count -eq 0 -and -not [Management.Automation.WildcardPattern]::ContainsWildcardCharacters($n)) {
      $ex = [Microsoft.HyperV.PowerShell.VirtualizationException]::new("Hyper-V was unable to find a virtual machine with name `"$n`".")
      $Cmdlet.WriteError([Management.Automation.ErrorRecord]::new($ex, 'InvalidParameter', 'InvalidArgument', $n))
    }
    foreach ($v in $hit) { New-HvObject 'VirtualMachine' $v }
  }
}

# The VMs a cmdlet acts on: -VM objects, or -Name / -VMName resolved on the host.
function Get-HvTargets($Cmdlet, $VM, [string[]]$Name) {
  if ($Cmdlet.ParameterSetName -like 'VM*' -and $null -ne $VM) { return @($VM) }
  @(Get-HvVMs $Cmdlet $Name)
}

function Get-HvVMById($Cmdlet, [Guid]$Id) {
  $r = Invoke-Hv $Cmdlet 'vms' @{ id = $Id.ToString() } $Id
  foreach ($v in @($r.value)) { New-HvObject 'VirtualMachine' $v }
}

# ---- cmdlets ------------------------------------------------------------------------------------

function Get-VM {
  [CmdletBinding(DefaultParameterSetName = 'Name')]
  [OutputType([Microsoft.HyperV.PowerShell.VirtualMachine])]
  param(
    [Parameter(ParameterSetName = 'Name', Position = 0, ValueFromPipeline = $true)][Alias('VMName')][ValidateNotNullOrEmpty()][string[]]$Name,
    [Parameter(ParameterSetName = 'Id', Position = 0, ValueFromPipeline = $true, ValueFromPipelineByPropertyName = $true)][ValidateNotNull()][Nullable[Guid]]$Id,
    [Parameter(ParameterSetName = 'ClusterObject', Mandatory = $true, Position = 0, ValueFromPipeline = $true)][psobject]$ClusterObject,
    [Parameter(ParameterSetName = 'Name')][Parameter(ParameterSetName = 'Id')][object[]]$CimSession,
    [Parameter(ParameterSetName = 'Name')][Parameter(ParameterSetName = 'Id')][string[]]$ComputerName,
    [Parameter(ParameterSetName = 'Name')][Parameter(ParameterSetName = 'Id')][pscredential[]]$Credential
  )
  process {
    Use-CallerPreference $PSCmdlet
    Assert-Local $PSCmdlet
    if ($PSCmdlet.ParameterSetName -eq 'ClusterObject') { $PSCmdlet.ThrowTerminatingError([Management.Automation.ErrorRecord]::new([NotSupportedException]::new('hyperv-sim: clusters are not simulated'), 'NotSimulated', 'NotImplemented', $null)) }
    if ($PSCmdlet.ParameterSetName -eq 'Id') {
      if ($null -eq $Id) { Get-HvVMs $PSCmdlet $null; return }
      $found = @(Get-HvVMById $PSCmdlet ([Guid]$Id))
      if ($found.Count -eq 0) {
        $ex = [Microsoft.HyperV.PowerShell.VirtualizationException]::new("Hyper-V was unable to find a virtual machine with id `"$Id`".")
        $PSCmdlet.WriteError([Management.Automation.ErrorRecord]::new($ex, 'InvalidParameter', 'ObjectNotFound', $Id))
      }
      $found
      return
    }
    Get-HvVMs $PSCmdlet $Name
  }
}

function Get-VMHost {
  [CmdletBinding(DefaultParameterSetName = 'ComputerName')]
  [OutputType([Microsoft.HyperV.PowerShell.VMHost])]
  param(
    [Parameter(ParameterSetName = 'ComputerName', Position = 0)][ValidateNotNullOrEmpty()][string[]]$ComputerName,
    [Parameter(ParameterSetName = 'ComputerName', Position = 1)][ValidateNotNullOrEmpty()][pscredential[]]$Credential,
    [Parameter(ParameterSetName = 'CimSession', Mandatory = $true, Position = 0)][ValidateNotNullOrEmpty()][object[]]$CimSession
  )
  Use-CallerPreference $PSCmdlet
  Assert-Local $PSCmdlet
  $r = Invoke-Hv $PSCmdlet 'host' @{} $null
  if ($r.ok) { New-HvObject 'VMHost' $r.value }
}

function Get-VMIntegrationService {
  [CmdletBinding(DefaultParameterSetName = 'VMName')]
  [OutputType([Microsoft.HyperV.PowerShell.VMIntegrationComponent])]
  param(
    [Parameter(ParameterSetName = 'VMName', Mandatory = $true, Position = 0, ValueFromPipeline = $true)][ValidateNotNullOrEmpty()][string[]]$VMName,
    [Parameter(ParameterSetName = 'VMObject', Mandatory = $true, Position = 0, ValueFromPipeline = $true)][ValidateNotNullOrEmpty()][Microsoft.HyperV.PowerShell.VirtualMachine[]]$VM,
    [Parameter(ParameterSetName = 'VMSnapshot', Mandatory = $true, Position = 0, ValueFromPipeline = $true)][Alias('VMCheckpoint')][ValidateNotNull()][Microsoft.HyperV.PowerShell.VMSnapshot]$VMSnapshot,
    [Parameter(Position = 1)][ValidateNotNullOrEmpty()][string[]]$Name,
    [Parameter(ParameterSetName = 'VMName')][object[]]$CimSession,
    [Parameter(ParameterSetName = 'VMName')][string[]]$ComputerName,
    [Parameter(ParameterSetName = 'VMName')][pscredential[]]$Credential
  )
  process {
    Use-CallerPreference $PSCmdlet
    Assert-Local $PSCmdlet
    if ($PSCmdlet.ParameterSetName -eq 'VMSnapshot') { $targets = @(Get-HvVMById $PSCmdlet $VMSnapshot.VMId) } else { $targets = Get-HvTargets $PSCmdlet $VM $VMName }
    foreach ($v in $targets) {
      $r = Invoke-Hv $PSCmdlet 'ics' @{ vmId = $v.Id.ToString() } $v
      foreach ($ic in @($r.value)) {
        if ($Name -and -not (@($Name) | Where-Object { $ic.Name -like $_ })) { continue }
        New-HvObject 'VMIntegrationComponent' $ic
      }
    }
  }
}

function Get-VMSecurity {
  [CmdletBinding(DefaultParameterSetName = 'VMName')]
  [OutputType([Microsoft.HyperV.PowerShell.VMSecurity])]
  param(
    [Parameter(ParameterSetName = 'VMName', Mandatory = $true, Position = 0, ValueFromPipeline = $true)][ValidateNotNullOrEmpty()][string[]]$VMName,
    [Parameter(ParameterSetName = 'VMObject', Mandatory = $true, Position = 0, ValueFromPipeline = $true)][ValidateNotNullOrEmpty()][Microsoft.HyperV.PowerShell.VirtualMachine[]]$VM,
    [Parameter(ParameterSetName = 'VMName')][object[]]$CimSession,
    [Parameter(ParameterSetName = 'VMName')][string[]]$ComputerName,
    [Parameter(ParameterSetName = 'VMName')][pscredential[]]$Credential
  )
  process {
    Use-CallerPreference $PSCmdlet
    Assert-Local $PSCmdlet
    foreach ($v in (Get-HvTargets $PSCmdlet $VM $VMName)) {
      $r = Invoke-Hv $PSCmdlet 'security' @{ vmId = $v.Id.ToString() } $v
      if ($r.ok) { New-HvObject 'VMSecurity' $r.value }
    }
  }
}

function Get-VMHardDiskDrive {
  [CmdletBinding(DefaultParameterSetName = 'VMName')]
  [OutputType([Microsoft.HyperV.PowerShell.HardDiskDrive])]
  param(
    [Parameter(ParameterSetName = 'VMName', Mandatory = $true, Position = 0, ValueFromPipeline = $true)][ValidateNotNullOrEmpty()][string[]]$VMName,
    [Parameter(ParameterSetName = 'VMObject', Mandatory = $true, Position = 0, ValueFromPipeline = $true)][ValidateNotNullOrEmpty()][Microsoft.HyperV.PowerShell.VirtualMachine[]]$VM,
    [Parameter(ParameterSetName = 'VMSnapshot', Mandatory = $true, Position = 0, ValueFromPipeline = $true)][Alias('VMCheckpoint')][ValidateNotNull()][Microsoft.HyperV.PowerShell.VMSnapshot]$VMSnapshot,
    [Parameter(ParameterSetName = 'VMDriveController', Mandatory = $true, Position = 0, ValueFromPipeline = $true)][object[]]$VMDriveController,
    [Nullable[Microsoft.HyperV.PowerShell.ControllerType]]$ControllerType,
    [Nullable[int]]$ControllerNumber,
    [Nullable[int]]$ControllerLocation,
    [Parameter(ParameterSetName = 'VMName')][object[]]$CimSession,
    [Parameter(ParameterSetName = 'VMName')][string[]]$ComputerName,
    [Parameter(ParameterSetName = 'VMName')][pscredential[]]$Credential
  )
  process {
    Use-CallerPreference $PSCmdlet
    Assert-Local $PSCmdlet
    if ($PSCmdlet.ParameterSetName -eq 'VMDriveController') { $PSCmdlet.ThrowTerminatingError([Management.Automation.ErrorRecord]::new([NotSupportedException]::new('hyperv-sim: -VMDriveController is not simulated'), 'NotSimulated', 'NotImplemented', $null)) }
    $answers = @()
    if ($PSCmdlet.ParameterSetName -eq 'VMSnapshot') { $answers = @((Invoke-Hv $PSCmdlet 'disks' @{ snapshotId = $VMSnapshot.Id.ToString() } $VMSnapshot).value) }
    else { foreach ($v in (Get-HvTargets $PSCmdlet $VM $VMName)) { $answers += @((Invoke-Hv $PSCmdlet 'disks' @{ vmId = $v.Id.ToString() } $v).value) } }
    foreach ($d in $answers) {
      if ($null -eq $d) { continue }
      $o = New-HvObject 'HardDiskDrive' $d
      if ($null -ne $ControllerType -and $o.ControllerType -ne $ControllerType) { continue }
      if ($null -ne $ControllerNumber -and $o.ControllerNumber -ne $ControllerNumber) { continue }
      if ($null -ne $ControllerLocation -and $o.ControllerLocation -ne $ControllerLocation) { continue }
      $o
    }
  }
}

function Get-VMNetworkAdapter {
  [CmdletBinding(DefaultParameterSetName = 'VMName')]
  [OutputType([Microsoft.HyperV.PowerShell.VMNetworkAdapterBase])]
  param(
    [Parameter(ParameterSetName = 'VMName', Mandatory = $true, Position = 0, ValueFromPipeline = $true)][ValidateNotNullOrEmpty()][string[]]$VMName,
    [Parameter(ParameterSetName = 'VMObject', Mandatory = $true, Position = 0, ValueFromPipeline = $true)][ValidateNotNullOrEmpty()][Microsoft.HyperV.PowerShell.VirtualMachine[]]$VM,
    [Parameter(ParameterSetName = 'VMSnapshot', Mandatory = $true, ValueFromPipeline = $true)][Alias('VMCheckpoint')][ValidateNotNull()][Microsoft.HyperV.PowerShell.VMSnapshot]$VMSnapshot,
    [Parameter(ParameterSetName = 'ManagementOS', Mandatory = $true)][switch]$ManagementOS,
    [Parameter(ParameterSetName = 'All', Mandatory = $true)][switch]$All,
    [Parameter(Position = 1)][Alias('VMNetworkAdapterName')][ValidateNotNullOrEmpty()][string]$Name,
    [Parameter(ParameterSetName = 'VMName')][Parameter(ParameterSetName = 'VMObject')][Nullable[bool]]$IsLegacy,
    [Parameter(ParameterSetName = 'ManagementOS')][string]$SwitchName,
    [Parameter(ParameterSetName = 'VMName')][Parameter(ParameterSetName = 'ManagementOS')][Parameter(ParameterSetName = 'All')][object[]]$CimSession,
    [Parameter(ParameterSetName = 'VMName')][Parameter(ParameterSetName = 'ManagementOS')][Parameter(ParameterSetName = 'All')][string[]]$ComputerName,
    [Parameter(ParameterSetName = 'VMName')][Parameter(ParameterSetName = 'ManagementOS')][Parameter(ParameterSetName = 'All')][pscredential[]]$Credential
  )
  process {
    Use-CallerPreference $PSCmdlet
    Assert-Local $PSCmdlet
    if ($PSCmdlet.ParameterSetName -in 'ManagementOS', 'All', 'VMSnapshot') { $PSCmdlet.ThrowTerminatingError([Management.Automation.ErrorRecord]::new([NotSupportedException]::new("hyperv-sim: -$($PSCmdlet.ParameterSetName) is not simulated"), 'NotSimulated', 'NotImplemented', $null)) }
    foreach ($v in (Get-HvTargets $PSCmdlet $VM $VMName)) {
      foreach ($n in @((Invoke-Hv $PSCmdlet 'nics' @{ vmId = $v.Id.ToString() } $v).value)) {
        if ($null -eq $n) { continue }
        if ($Name -and $n.Name -notlike $Name) { continue }
        New-HvObject 'VMNetworkAdapter' $n
      }
    }
  }
}

function Disconnect-VMNetworkAdapter {
  [CmdletBinding(DefaultParameterSetName = 'Name', SupportsShouldProcess = $true)]
  [OutputType([Microsoft.HyperV.PowerShell.VMNetworkAdapter])]
  param(
    [Parameter(ParameterSetName = 'Name', Mandatory = $true, Position = 0)][ValidateNotNullOrEmpty()][string[]]$VMName,
    [Parameter(ParameterSetName = 'Name', Position = 1)][Alias('VMNetworkAdapterName')][string[]]$Name,
    [Parameter(ParameterSetName = 'Obj', Mandatory = $true, Position = 0, ValueFromPipeline = $true)][Microsoft.HyperV.PowerShell.VMNetworkAdapter[]]$VMNetworkAdapter,
    [switch]$Passthru,
    [Parameter(ParameterSetName = 'Name')][object[]]$CimSession,
    [Parameter(ParameterSetName = 'Name')][string[]]$ComputerName,
    [Parameter(ParameterSetName = 'Name')][pscredential[]]$Credential
  )
  process {
    Use-CallerPreference $PSCmdlet
    Assert-Local $PSCmdlet
    $nics = @($VMNetworkAdapter)
    if ($PSCmdlet.ParameterSetName -eq 'Name') { $nics = @(foreach ($v in (Get-HvVMs $PSCmdlet $VMName)) { Get-VMNetworkAdapter -VM $v | Where-Object { -not $Name -or (@($Name) | Where-Object { $v.Name -like $_ }) } }) }
    foreach ($n in $nics) {
      if ($null -eq $n -or -not $PSCmdlet.ShouldProcess($n.Name, 'Disconnect-VMNetworkAdapter')) { continue }
      $r = Invoke-Hv $PSCmdlet 'disconnect-nic' @{ vmId = $n.VMId.ToString(); nicId = $n.Id } $n
      if ($r.ok -and $Passthru) { $n }
    }
  }
}

function Connect-VMNetworkAdapter {
  [CmdletBinding(DefaultParameterSetName = 'Name_SwitchName', SupportsShouldProcess = $true)]
  [OutputType([Microsoft.HyperV.PowerShell.VMNetworkAdapter])]
  param(
    [Parameter(ParameterSetName = 'Name_SwitchName', Mandatory = $true, Position = 0)][Parameter(ParameterSetName = 'Name_SwitchObject', Mandatory = $true, Position = 0)][Parameter(ParameterSetName = 'Name_UseAutomaticConnection', Mandatory = $true, Position = 0)][ValidateNotNullOrEmpty()][string[]]$VMName,
    [Parameter(ParameterSetName = 'Name_SwitchName', Position = 1)][Parameter(ParameterSetName = 'Name_SwitchObject', Position = 1)][Parameter(ParameterSetName = 'Name_UseAutomaticConnection', Position = 1)][Alias('VMNetworkAdapterName')][string[]]$Name,
    [Parameter(ParameterSetName = 'Object_SwitchName', Mandatory = $true, Position = 0, ValueFromPipeline = $true)][Parameter(ParameterSetName = 'Object_SwitchObject', Mandatory = $true, Position = 0, ValueFromPipeline = $true)][Parameter(ParameterSetName = 'Object_UseAutomaticConnection', Mandatory = $true, Position = 0, ValueFromPipeline = $true)][Microsoft.HyperV.PowerShell.VMNetworkAdapter[]]$VMNetworkAdapter,
    [Parameter(ParameterSetName = 'Name_SwitchName', Mandatory = $true, Position = 2)][Parameter(ParameterSetName = 'Object_SwitchName', Mandatory = $true, Position = 1)][ValidateNotNullOrEmpty()][string]$SwitchName,
    [Parameter(ParameterSetName = 'Name_SwitchObject', Mandatory = $true, Position = 2)][Parameter(ParameterSetName = 'Object_SwitchObject', Mandatory = $true, Position = 1)][Microsoft.HyperV.PowerShell.VMSwitch]$VMSwitch,
    [Parameter(ParameterSetName = 'Name_UseAutomaticConnection', Mandatory = $true)][Parameter(ParameterSetName = 'Object_UseAutomaticConnection', Mandatory = $true)][switch]$UseAutomaticConnection,
    [switch]$Passthru,
    [Parameter(ParameterSetName = 'Name_SwitchName')][Parameter(ParameterSetName = 'Name_UseAutomaticConnection')][object[]]$CimSession,
    [Parameter(ParameterSetName = 'Name_SwitchName')][Parameter(ParameterSetName = 'Name_UseAutomaticConnection')][string[]]$ComputerName,
    [Parameter(ParameterSetName = 'Name_SwitchName')][Parameter(ParameterSetName = 'Name_UseAutomaticConnection')][pscredential[]]$Credential
  )
  process {
    Use-CallerPreference $PSCmdlet
    Assert-Local $PSCmdlet
    if ($UseAutomaticConnection) { $PSCmdlet.ThrowTerminatingError([Management.Automation.ErrorRecord]::new([NotSupportedException]::new('hyperv-sim: -UseAutomaticConnection is not simulated'), 'NotSimulated', 'NotImplemented', $null)) }
    $target = $SwitchName
    if ($null -ne $VMSwitch) { $target = $VMSwitch.Name }
    $nics = @($VMNetworkAdapter)
    if ($PSCmdlet.ParameterSetName -like 'Name_*') { $nics = @(foreach ($v in (Get-HvVMs $PSCmdlet $VMName)) { Get-VMNetworkAdapter -VM $v | Where-Object { -not $Name -or (@($Name) | Where-Object { $v.Name -like $_ }) } }) }
    foreach ($n in $nics) {
      if ($null -eq $n -or -not $PSCmdlet.ShouldProcess($n.Name, 'Connect-VMNetworkAdapter')) { continue }
      $r = Invoke-Hv $PSCmdlet 'connect-nic' @{ vmId = $n.VMId.ToString(); nicId = $n.Id; switchName = $target } $n
      if ($r.ok -and $Passthru) { $n }
    }
  }
}

function Get-VMSwitch {
  [CmdletBinding(DefaultParameterSetName = 'Name')]
  [OutputType([Microsoft.HyperV.PowerShell.VMSwitch])]
  param(
    [Parameter(ParameterSetName = 'Name', Position = 0)][Alias('SwitchName')][ValidateNotNullOrEmpty()][string]$Name,
    [Parameter(ParameterSetName = 'Id', Position = 0, ValueFromPipeline = $true, ValueFromPipelineByPropertyName = $true)][Alias('SwitchId')][Nullable[Guid][]]$Id,
    [Parameter(Position = 1)][string[]]$ResourcePoolName,
    [Microsoft.HyperV.PowerShell.VMSwitchType[]]$SwitchType,
    [object[]]$CimSession,
    [string[]]$ComputerName,
    [pscredential[]]$Credential
  )
  process {
    Use-CallerPreference $PSCmdlet
    Assert-Local $PSCmdlet
    if ($ResourcePoolName) { $PSCmdlet.ThrowTerminatingError([Management.Automation.ErrorRecord]::new([NotSupportedException]::new('hyperv-sim: -ResourcePoolName is not simulated'), 'NotSimulated', 'NotImplemented', $null)) }
    $hit = $false
    foreach ($sw in @((Invoke-Hv $PSCmdlet 'switches' @{} $null).value)) {
      if ($null -eq $sw) { continue }
      $o = New-HvObject 'VMSwitch' $sw
      if ($Name -and $o.Name -notlike $Name) { continue }
      if ($Id -and -not (@($Id) | Where-Object { $_ -eq $o.Id })) { continue }
      if ($SwitchType -and $SwitchType -notcontains $o.SwitchType) { continue }
      $hit = $true
      $o
    }
    if (-not $hit -and $Name -and -not [Management.Automation.WildcardPattern]::ContainsWildcardCharacters($Name)) {
      $ex = [Microsoft.HyperV.PowerShell.VirtualizationException]::new("Hyper-V was unable to find a virtual switch with name `"$Name`".")
      $PSCmdlet.WriteError([Management.Automation.ErrorRecord]::new($ex, 'InvalidParameter', 'ObjectNotFound', $Name))
    }
  }
}

function Set-VM {
  [CmdletBinding(DefaultParameterSetName = 'Name', SupportsShouldProcess = $true)]
  [OutputType([Microsoft.HyperV.PowerShell.VirtualMachine])]
  param(
    [Parameter(ParameterSetName = 'Name', Mandatory = $true, Position = 0, ValueFromPipeline = $true)][Alias('VMName')][ValidateNotNullOrEmpty()][string[]]$Name,
    [Parameter(ParameterSetName = 'VMObject', Mandatory = $true, Position = 0, ValueFromPipeline = $true)][ValidateNotNullOrEmpty()][Microsoft.HyperV.PowerShell.VirtualMachine[]]$VM,
    [Nullable[bool]]$GuestControlledCacheTypes, [Nullable[uint32]]$LowMemoryMappedIoSpace, [Nullable[uint64]]$HighMemoryMappedIoSpace,
    [Nullable[long]]$ProcessorCount, [switch]$DynamicMemory, [switch]$StaticMemory, [Nullable[long]]$MemoryMinimumBytes, [Nullable[long]]$MemoryMaximumBytes,
    [Nullable[long]]$MemoryStartupBytes, [object]$AutomaticStartAction, [object]$AutomaticStopAction, [Nullable[int]]$AutomaticStartDelay,
    [object]$AutomaticCriticalErrorAction, [Nullable[int]]$AutomaticCriticalErrorActionTimeout,
    [Nullable[bool]]$AutomaticCheckpointsEnabled, [object]$LockOnDisconnect, [string]$Notes, [string]$NewVMName,
    [Alias('CheckpointFileLocation')][string]$SnapshotFileLocation, [string]$SmartPagingFilePath,
    [Nullable[Microsoft.HyperV.PowerShell.CheckpointType]]$CheckpointType,
    [switch]$Passthru, [switch]$AllowUnverifiedPaths,
    [Parameter(ParameterSetName = 'Name')][object[]]$CimSession,
    [Parameter(ParameterSetName = 'Name')][string[]]$ComputerName,
    [Parameter(ParameterSetName = 'Name')][pscredential[]]$Credential
  )
  process {
    Use-CallerPreference $PSCmdlet
    Assert-Local $PSCmdlet
    $simulated = @('Name', 'VM', 'CheckpointType', 'AutomaticCheckpointsEnabled', 'Passthru', 'NewVMName', 'Confirm', 'WhatIf', 'ErrorAction', 'WarningAction', 'Verbose', 'Debug')
    foreach ($k in $PSBoundParameters.Keys) { if ($simulated -notcontains $k) { $PSCmdlet.ThrowTerminatingError([Management.Automation.ErrorRecord]::new([NotSupportedException]::new("hyperv-sim: Set-VM -$k is not simulated"), 'NotSimulated', 'NotImplemented', $null)) } }
    foreach ($v in (Get-HvTargets $PSCmdlet $VM $Name)) {
      if (-not $PSCmdlet.ShouldProcess($v.Name, 'Set-VM')) { continue }
      $a = @{ vmId = $v.Id.ToString() }
      if ($null -ne $CheckpointType) { $a.checkpointType = $CheckpointType.ToString() }
      if ($null -ne $AutomaticCheckpointsEnabled) { $a.automaticCheckpointsEnabled = [bool]$AutomaticCheckpointsEnabled }
      $r = Invoke-Hv $PSCmdlet 'set-vm' $a $v
      if ($r.ok -and $NewVMName) { $r = Invoke-Hv $PSCmdlet 'rename' @{ vmId = $v.Id.ToString(); newName = $NewVMName } $v }
      if ($r.ok -and $Passthru) { Get-HvVMById $PSCmdlet $v.Id }
    }
  }
}

function Checkpoint-VM {
  [CmdletBinding(DefaultParameterSetName = 'Name', SupportsShouldProcess = $true)]
  [OutputType([Microsoft.HyperV.PowerShell.VMSnapshot])]
  param(
    [Parameter(ParameterSetName = 'Name', Mandatory = $true, Position = 0, ValueFromPipeline = $true)][Alias('VMName')][ValidateNotNullOrEmpty()][string[]]$Name,
    [Parameter(ParameterSetName = 'VMObject', Mandatory = $true, Position = 0, ValueFromPipeline = $true)][ValidateNotNullOrEmpty()][Microsoft.HyperV.PowerShell.VirtualMachine[]]$VM,
    [Parameter(Position = 1)][Alias('CheckpointName')][ValidateNotNullOrEmpty()][string]$SnapshotName,
    [switch]$AsJob, [switch]$Passthru,
    [Parameter(ParameterSetName = 'Name')][object[]]$CimSession,
    [Parameter(ParameterSetName = 'Name')][string[]]$ComputerName,
    [Parameter(ParameterSetName = 'Name')][pscredential[]]$Credential
  )
  process {
    Use-CallerPreference $PSCmdlet
    Assert-Local $PSCmdlet
    if ($AsJob) { $PSCmdlet.ThrowTerminatingError([Management.Automation.ErrorRecord]::new([NotSupportedException]::new('hyperv-sim: -AsJob is not simulated'), 'NotSimulated', 'NotImplemented', $null)) }
    foreach ($v in (Get-HvTargets $PSCmdlet $VM $Name)) {
      if (-not $PSCmdlet.ShouldProcess($v.Name, 'Checkpoint-VM')) { continue }
      $r = Invoke-Hv $PSCmdlet 'checkpoint' @{ vmId = $v.Id.ToString(); name = $SnapshotName } $v
      if ($r.ok -and $Passthru) { New-HvObject 'VMSnapshot' $r.value }
    }
  }
}

function Get-VMSnapshot {
  [CmdletBinding(DefaultParameterSetName = 'VMName')]
  [OutputType([Microsoft.HyperV.PowerShell.VMSnapshot])]
  param(
    [Parameter(ParameterSetName = 'VMName', Mandatory = $true, Position = 0, ValueFromPipeline = $true)][ValidateNotNullOrEmpty()][string[]]$VMName,
    [Parameter(ParameterSetName = 'VMObject', Mandatory = $true, Position = 0, ValueFromPipeline = $true)][ValidateNotNullOrEmpty()][Microsoft.HyperV.PowerShell.VirtualMachine[]]$VM,
    [Parameter(ParameterSetName = 'Id', Mandatory = $true, Position = 0, ValueFromPipeline = $true, ValueFromPipelineByPropertyName = $true)][ValidateNotNull()][Nullable[Guid]]$Id,
    [Parameter(ParameterSetName = 'Parent', Mandatory = $true)][object]$ParentOf,
    [Parameter(ParameterSetName = 'Child', Mandatory = $true)][object]$ChildOf,
    [Parameter(ParameterSetName = 'VMName', Position = 1)][Parameter(ParameterSetName = 'VMObject', Position = 1)][Parameter(ParameterSetName = 'Parent', Position = 0)][Parameter(ParameterSetName = 'Child', Position = 0)][ValidateNotNullOrEmpty()][string]$Name,
    [Parameter(ParameterSetName = 'VMName')][Parameter(ParameterSetName = 'VMObject')][Parameter(ParameterSetName = 'Parent')][Parameter(ParameterSetName = 'Child')][object]$SnapshotType,
    [Parameter(ParameterSetName = 'VMName')][Parameter(ParameterSetName = 'Id')][object[]]$CimSession,
    [Parameter(ParameterSetName = 'VMName')][Parameter(ParameterSetName = 'Id')][string[]]$ComputerName,
    [Parameter(ParameterSetName = 'VMName')][Parameter(ParameterSetName = 'Id')][pscredential[]]$Credential
  )
  process {
    Use-CallerPreference $PSCmdlet
    Assert-Local $PSCmdlet
    if ($PSCmdlet.ParameterSetName -in 'Parent', 'Child' -or $null -ne $SnapshotType) { $PSCmdlet.ThrowTerminatingError([Management.Automation.ErrorRecord]::new([NotSupportedException]::new('hyperv-sim: -ParentOf/-ChildOf/-SnapshotType are not simulated'), 'NotSimulated', 'NotImplemented', $null)) }
    if ($PSCmdlet.ParameterSetName -eq 'Id') {
      $r = Invoke-Hv $PSCmdlet 'snapshots' @{ id = ([Guid]$Id).ToString() } $Id
      foreach ($s in @($r.value)) { if ($null -ne $s) { New-HvObject 'VMSnapshot' $s } }
      return
    }
    foreach ($v in (Get-HvTargets $PSCmdlet $VM $VMName)) {
      $found = @(@((Invoke-Hv $PSCmdlet 'snapshots' @{ vmId = $v.Id.ToString() } $v).value) | Where-Object { $null -ne $_ -and (-not $Name -or $_.Name -like $Name) })
      if ($Name -and $found.Count -eq 0) {
        $ex = [Microsoft.HyperV.PowerShell.VirtualizationException]::new("Hyper-V was unable to find a checkpoint with name `"$Name`".")
        $PSCmdlet.WriteError([Management.Automation.ErrorRecord]::new($ex, 'InvalidParameter', 'ObjectNotFound', $Name))
      }
      foreach ($s in $found) { New-HvObject 'VMSnapshot' $s }
    }
  }
}

function Export-VMSnapshot {
  [CmdletBinding(DefaultParameterSetName = 'SnapshotName', SupportsShouldProcess = $true)]
  [OutputType([Microsoft.HyperV.PowerShell.VMSnapshot])]
  param(
    [Parameter(ParameterSetName = 'SnapshotName', Mandatory = $true, Position = 0, ValueFromPipeline = $true)][Parameter(ParameterSetName = 'VMObject', Mandatory = $true, Position = 1)][ValidateNotNullOrEmpty()][string[]]$Name,
    [Parameter(ParameterSetName = 'SnapshotName', Mandatory = $true)][ValidateNotNullOrEmpty()][string[]]$VMName,
    [Parameter(ParameterSetName = 'VMObject', Mandatory = $true, Position = 0, ValueFromPipeline = $true)][ValidateNotNullOrEmpty()][Microsoft.HyperV.PowerShell.VirtualMachine[]]$VM,
    [Parameter(ParameterSetName = 'SnapshotObject', Mandatory = $true, Position = 0, ValueFromPipeline = $true)][Alias('VMCheckpoint')][ValidateNotNullOrEmpty()][Microsoft.HyperV.PowerShell.VMSnapshot[]]$VMSnapshot,
    [Parameter(Mandatory = $true, Position = 1)][ValidateNotNullOrEmpty()][string]$Path,
    [switch]$AsJob, [switch]$Passthru,
    [Parameter(ParameterSetName = 'SnapshotName')][object[]]$CimSession,
    [Parameter(ParameterSetName = 'SnapshotName')][string[]]$ComputerName,
    [Parameter(ParameterSetName = 'SnapshotName')][pscredential[]]$Credential
  )
  process {
    Use-CallerPreference $PSCmdlet
    Assert-Local $PSCmdlet
    if ($AsJob) { $PSCmdlet.ThrowTerminatingError([Management.Automation.ErrorRecord]::new([NotSupportedException]::new('hyperv-sim: -AsJob is not simulated'), 'NotSimulated', 'NotImplemented', $null)) }
    $snaps = @($VMSnapshot)
    if ($PSCmdlet.ParameterSetName -ne 'SnapshotObject') {
      $vms = if ($PSCmdlet.ParameterSetName -eq 'VMObject') { @($VM) } else { @(Get-HvVMs $PSCmdlet $VMName) }
      $snaps = @(foreach ($v in $vms) { foreach ($n in $Name) { Get-VMSnapshot -VM $v -Name $n } })
    }
    foreach ($s in $snaps) {
      if (-not $PSCmdlet.ShouldProcess($s.Name, 'Export-VMSnapshot')) { continue }
      $r = Invoke-Hv $PSCmdlet 'export-snapshot' @{ snapshotId = $s.Id.ToString(); path = $Path } $s
      if ($r.ok -and $Passthru) { New-HvObject 'VMSnapshot' $r.value }
    }
  }
}

function New-HvReport($Cmdlet, [hashtable]$Arguments) {
  $r = Invoke-Hv $Cmdlet 'compare' $Arguments $Arguments.path
  if (-not $r.ok) { return }
  $vm = New-HvObject 'VirtualMachine' $r.value.vm
  $errs = @(foreach ($i in @($r.value.incompatibilities)) { if ($null -ne $i) { [Microsoft.HyperV.PowerShell.VMCompatibilityError]::new([string]$i.Message, [long]$i.MessageId, (New-HvObject 'VMNetworkAdapter' $i.nic)) } })
  [Microsoft.HyperV.PowerShell.VMCompatibilityReport]::StandInCreate($vm, $Arguments.path, [Microsoft.HyperV.PowerShell.VMCompatibilityError[]]$errs, [string]$r.value.plannedId)
}

function Get-HvImportArguments($Bound) {
  @{
    path = [string]$Bound['Path']; copy = [bool]$Bound['Copy']; register = [bool]$Bound['Register']; generateNewId = [bool]$Bound['GenerateNewId']
    virtualMachinePath = [string]$Bound['VirtualMachinePath']; snapshotFilePath = [string]$Bound['SnapshotFilePath']; smartPagingFilePath = [string]$Bound['SmartPagingFilePath']
    vhdDestinationPath = [string]$Bound['VhdDestinationPath']; vhdSourcePath = [string]$Bound['VhdSourcePath']
  }
}

function Compare-VM {
  [CmdletBinding(DefaultParameterSetName = 'NameSingleDestination', SupportsShouldProcess = $true)]
  [OutputType([Microsoft.HyperV.PowerShell.VMCompatibilityReport])]
  param(
    [Parameter(ParameterSetName = 'NameSingleDestination', Mandatory = $true, Position = 0)][Parameter(ParameterSetName = 'NameMultipleDestinations', Mandatory = $true, Position = 0)][Alias('VMName')][ValidateNotNullOrEmpty()][string]$Name,
    [Parameter(ParameterSetName = 'VMSingleDestination', Mandatory = $true, Position = 0)][Parameter(ParameterSetName = 'VMMultipleDestinations', Mandatory = $true, Position = 0)][ValidateNotNull()][Microsoft.HyperV.PowerShell.VirtualMachine]$VM,
    [Parameter(ParameterSetName = 'NameSingleDestination', Mandatory = $true, Position = 1)][Parameter(ParameterSetName = 'NameMultipleDestinations', Mandatory = $true, Position = 1)][Parameter(ParameterSetName = 'VMSingleDestination', Mandatory = $true, Position = 1)][Parameter(ParameterSetName = 'VMMultipleDestinations', Mandatory = $true, Position = 1)][ValidateNotNullOrEmpty()][string]$DestinationHost,
    [Parameter(ParameterSetName = 'Register', Mandatory = $true, Position = 0, ValueFromPipeline = $true)][Parameter(ParameterSetName = 'Copy', Mandatory = $true, Position = 0, ValueFromPipeline = $true)][ValidateNotNullOrEmpty()][string]$Path,
    [Parameter(ParameterSetName = 'Register')][switch]$Register,
    [Parameter(ParameterSetName = 'Copy', Mandatory = $true)][switch]$Copy,
    [Parameter(ParameterSetName = 'Copy')][switch]$GenerateNewId,
    [Parameter(ParameterSetName = 'Copy', Position = 1)][string]$VhdDestinationPath,
    [Parameter(ParameterSetName = 'Copy')][string]$VhdSourcePath,
    [Parameter(ParameterSetName = 'Copy')][Parameter(ParameterSetName = 'NameMultipleDestinations')][Parameter(ParameterSetName = 'VMMultipleDestinations')][ValidateNotNullOrEmpty()][string]$VirtualMachinePath,
    [Parameter(ParameterSetName = 'Copy')][Parameter(ParameterSetName = 'NameMultipleDestinations')][Parameter(ParameterSetName = 'VMMultipleDestinations')][Alias('CheckpointFileLocation', 'SnapshotFileLocation')][ValidateNotNullOrEmpty()][string]$SnapshotFilePath,
    [Parameter(ParameterSetName = 'Copy')][Parameter(ParameterSetName = 'NameMultipleDestinations')][Parameter(ParameterSetName = 'VMMultipleDestinations')][ValidateNotNullOrEmpty()][string]$SmartPagingFilePath,
    [Parameter(ParameterSetName = 'NameSingleDestination')][Parameter(ParameterSetName = 'VMSingleDestination')][switch]$IncludeStorage,
    [Parameter(ParameterSetName = 'NameSingleDestination')][Parameter(ParameterSetName = 'VMSingleDestination')][string]$DestinationStoragePath,
    [Parameter(ParameterSetName = 'NameMultipleDestinations')][Parameter(ParameterSetName = 'VMMultipleDestinations')][hashtable[]]$Vhds,
    [Parameter(ParameterSetName = 'CompatibilityReport', Mandatory = $true, Position = 0, ValueFromPipeline = $true)][Microsoft.HyperV.PowerShell.VMCompatibilityReport]$CompatibilityReport,
    [switch]$AsJob
  )
  process {
    Use-CallerPreference $PSCmdlet
    if ($PSCmdlet.ParameterSetName -notin 'Register', 'Copy' -or $AsJob) { $PSCmdlet.ThrowTerminatingError([Management.Automation.ErrorRecord]::new([NotSupportedException]::new("hyperv-sim: Compare-VM $($PSCmdlet.ParameterSetName) is not simulated"), 'NotSimulated', 'NotImplemented', $null)) }
    if (-not $PSCmdlet.ShouldProcess($Path, 'Compare-VM')) { return }
    New-HvReport $PSCmdlet (Get-HvImportArguments $PSBoundParameters)
  }
}

function Import-VM {
  [CmdletBinding(DefaultParameterSetName = 'Register', SupportsShouldProcess = $true)]
  [OutputType([Microsoft.HyperV.PowerShell.VirtualMachine])]
  param(
    [Parameter(ParameterSetName = 'Register', Mandatory = $true, Position = 0, ValueFromPipeline = $true)][Parameter(ParameterSetName = 'Copy', Mandatory = $true, Position = 0, ValueFromPipeline = $true)][ValidateNotNullOrEmpty()][string]$Path,
    [Parameter(ParameterSetName = 'Register')][switch]$Register,
    [Parameter(ParameterSetName = 'Copy', Mandatory = $true)][switch]$Copy,
    [Parameter(ParameterSetName = 'Copy', Position = 1)][string]$VhdDestinationPath,
    [Parameter(ParameterSetName = 'Copy')][string]$VirtualMachinePath,
    [Parameter(ParameterSetName = 'Copy')][Alias('CheckpointFileLocation', 'SnapshotFileLocation')][string]$SnapshotFilePath,
    [Parameter(ParameterSetName = 'Copy')][string]$SmartPagingFilePath,
    [Parameter(ParameterSetName = 'Copy')][string]$VhdSourcePath,
    [Parameter(ParameterSetName = 'Copy')][switch]$GenerateNewId,
    [Parameter(ParameterSetName = 'CompatibilityReport', Mandatory = $true, Position = 0, ValueFromPipeline = $true)][Microsoft.HyperV.PowerShell.VMCompatibilityReport]$CompatibilityReport,
    [switch]$AsJob,
    [Parameter(ParameterSetName = 'Register')][Parameter(ParameterSetName = 'Copy')][object[]]$CimSession,
    [Parameter(ParameterSetName = 'Register')][Parameter(ParameterSetName = 'Copy')][string[]]$ComputerName,
    [Parameter(ParameterSetName = 'Register')][Parameter(ParameterSetName = 'Copy')][pscredential[]]$Credential
  )
  process {
    Use-CallerPreference $PSCmdlet
    Assert-Local $PSCmdlet
    if ($AsJob) { $PSCmdlet.ThrowTerminatingError([Management.Automation.ErrorRecord]::new([NotSupportedException]::new('hyperv-sim: -AsJob is not simulated'), 'NotSimulated', 'NotImplemented', $null)) }
    $report = $CompatibilityReport
    $fromPath = $PSCmdlet.ParameterSetName -ne 'CompatibilityReport'
    if ($fromPath) { $report = New-HvReport $PSCmdlet (Get-HvImportArguments $PSBoundParameters) }
    if ($null -eq $report) { return }
    if (-not $PSCmdlet.ShouldProcess($report.Path, 'Import-VM')) { return }
    $planned = [Microsoft.HyperV.PowerShell.VMCompatibilityReport]::StandInPlannedId($report)
    $r = Invoke-Hv $PSCmdlet 'import' @{ plannedId = $planned } $report
    # Import-VM -Path removes its planned VM on failure; with -CompatibilityReport it is left.
    if (-not $r.ok -and $fromPath) { [void](Invoke-HvHost 'remove-planned' @{ plannedId = $planned }) }
    if ($r.ok) { New-HvObject 'VirtualMachine' $r.value }
  }
}

function Rename-VM {
  [CmdletBinding(DefaultParameterSetName = 'Name', SupportsShouldProcess = $true)]
  [OutputType([Microsoft.HyperV.PowerShell.VirtualMachine])]
  param(
    [Parameter(ParameterSetName = 'Name', Mandatory = $true, Position = 0, ValueFromPipeline = $true)][Alias('VMName')][ValidateNotNullOrEmpty()][string[]]$Name,
    [Parameter(ParameterSetName = 'VMObject', Mandatory = $true, Position = 0, ValueFromPipeline = $true)][ValidateNotNullOrEmpty()][Microsoft.HyperV.PowerShell.VirtualMachine[]]$VM,
    [Parameter(Mandatory = $true, Position = 1)][ValidateNotNullOrEmpty()][string]$NewName,
    [switch]$Passthru,
    [Parameter(ParameterSetName = 'Name')][object[]]$CimSession,
    [Parameter(ParameterSetName = 'Name')][string[]]$ComputerName,
    [Parameter(ParameterSetName = 'Name')][pscredential[]]$Credential
  )
  process {
    Use-CallerPreference $PSCmdlet
    Assert-Local $PSCmdlet
    foreach ($v in (Get-HvTargets $PSCmdlet $VM $Name)) {
      if (-not $PSCmdlet.ShouldProcess($v.Name, 'Rename-VM')) { continue }
      $r = Invoke-Hv $PSCmdlet 'rename' @{ vmId = $v.Id.ToString(); newName = $NewName } $v
      if ($r.ok -and $Passthru) { Get-HvVMById $PSCmdlet $v.Id }
    }
  }
}

# Start-VM / Resume-VM / Remove-VM share one shape: a VM set, an action on the host, -Passthru.
function Invoke-HvVMAction($Cmdlet, $VM, [string[]]$Name, [string]$Op, [string]$Verb, [bool]$Passthru, [bool]$AsJob) {
  if ($AsJob) { $Cmdlet.ThrowTerminatingError([Management.Automation.ErrorRecord]::new([NotSupportedException]::new('hyperv-sim: -AsJob is not simulated'), 'NotSimulated', 'NotImplemented', $null)) }
  foreach ($v in (Get-HvTargets $Cmdlet $VM $Name)) {
    if (-not $Cmdlet.ShouldProcess($v.Name, $Verb)) { continue }
    $r = Invoke-Hv $Cmdlet $Op @{ vmId = $v.Id.ToString() } $v
    if ($r.ok -and $Passthru) { Get-HvVMById $Cmdlet $v.Id }
  }
}

function Start-VM {
  [CmdletBinding(DefaultParameterSetName = 'Name', SupportsShouldProcess = $true)]
  [OutputType([Microsoft.HyperV.PowerShell.VirtualMachine])]
  param(
    [Parameter(ParameterSetName = 'Name', Mandatory = $true, Position = 0, ValueFromPipeline = $true)][Alias('VMName')][ValidateNotNullOrEmpty()][string[]]$Name,
    [Parameter(ParameterSetName = 'VMObject', Mandatory = $true, Position = 0, ValueFromPipeline = $true)][ValidateNotNullOrEmpty()][Microsoft.HyperV.PowerShell.VirtualMachine[]]$VM,
    [switch]$AsJob, [switch]$Passthru,
    [Parameter(ParameterSetName = 'Name')][object[]]$CimSession,
    [Parameter(ParameterSetName = 'Name')][string[]]$ComputerName,
    [Parameter(ParameterSetName = 'Name')][pscredential[]]$Credential
  )
  process { Use-CallerPreference $PSCmdlet; Assert-Local $PSCmdlet; Invoke-HvVMAction $PSCmdlet $VM $Name 'start' 'Start-VM' $Passthru $AsJob }
}

function Resume-VM {
  [CmdletBinding(DefaultParameterSetName = 'Name', SupportsShouldProcess = $true)]
  [OutputType([Microsoft.HyperV.PowerShell.VirtualMachine])]
  param(
    [Parameter(ParameterSetName = 'Name', Mandatory = $true, Position = 0, ValueFromPipeline = $true)][Alias('VMName')][ValidateNotNullOrEmpty()][string[]]$Name,
    [Parameter(ParameterSetName = 'VMObject', Mandatory = $true, Position = 0, ValueFromPipeline = $true)][ValidateNotNullOrEmpty()][Microsoft.HyperV.PowerShell.VirtualMachine[]]$VM,
    [switch]$AsJob, [switch]$Passthru,
    [Parameter(ParameterSetName = 'Name')][object[]]$CimSession,
    [Parameter(ParameterSetName = 'Name')][string[]]$ComputerName,
    [Parameter(ParameterSetName = 'Name')][pscredential[]]$Credential
  )
  process { Use-CallerPreference $PSCmdlet; Assert-Local $PSCmdlet; Invoke-HvVMAction $PSCmdlet $VM $Name 'resume' 'Resume-VM' $Passthru $AsJob }
}

function Stop-VM {
  [CmdletBinding(DefaultParameterSetName = 'Name', SupportsShouldProcess = $true)]
  [OutputType([Microsoft.HyperV.PowerShell.VirtualMachine])]
  param(
    [Parameter(ParameterSetName = 'Name', Mandatory = $true, Position = 0, ValueFromPipeline = $true)][Alias('VMName')][ValidateNotNullOrEmpty()][string[]]$Name,
    [Parameter(ParameterSetName = 'VMObject', Mandatory = $true, Position = 0, ValueFromPipeline = $true)][ValidateNotNullOrEmpty()][Microsoft.HyperV.PowerShell.VirtualMachine[]]$VM,
    [switch]$Save, [switch]$TurnOff, [switch]$Force, [switch]$AsJob, [switch]$Passthru,
    [Parameter(ParameterSetName = 'Name')][object[]]$CimSession,
    [Parameter(ParameterSetName = 'Name')][string[]]$ComputerName,
    [Parameter(ParameterSetName = 'Name')][pscredential[]]$Credential
  )
  process {
    Use-CallerPreference $PSCmdlet
    Assert-Local $PSCmdlet
    if ($AsJob -or $Save) { $PSCmdlet.ThrowTerminatingError([Management.Automation.ErrorRecord]::new([NotSupportedException]::new('hyperv-sim: -AsJob / -Save are not simulated'), 'NotSimulated', 'NotImplemented', $null)) }
    if ($Save -and $TurnOff) { $PSCmdlet.ThrowTerminatingError([Management.Automation.ErrorRecord]::new([ArgumentException]::new('The Save and TurnOff parameters cannot be used together.'), 'InvalidParameter', 'InvalidArgument', $null)) }
    foreach ($v in (Get-HvTargets $PSCmdlet $VM $Name)) {
      if (-not $PSCmdlet.ShouldProcess($v.Name, 'Stop-VM')) { continue }
      $off = [bool]$TurnOff
      if (-not $off -and $v.State -ne 'Off') {
        $sd = Invoke-Hv $PSCmdlet 'shutdown-available' @{ vmId = $v.Id.ToString() } $v
        if (-not $sd.ok) { continue }
        if (-not $sd.value.available) {
          # No working Shutdown integration service: the real cmdlet offers to turn the VM off
          # (ShouldContinue, which -Confirm:$false does not skip; -Force answers yes).
          if (-not $Force -and -not $PSCmdlet.ShouldContinue("The virtual machine '$($v.Name)' cannot be shut down through the Shutdown integration service. Do you want to turn it off?", 'Stop-VM')) { continue }
          $off = $true
        }
      }
      $r = Invoke-Hv $PSCmdlet 'stop' @{ vmId = $v.Id.ToString(); turnOff = $off; force = [bool]$Force } $v
      if ($r.ok -and $Passthru) { Get-HvVMById $PSCmdlet $v.Id }
    }
  }
}

function Remove-VM {
  [CmdletBinding(DefaultParameterSetName = 'Name', SupportsShouldProcess = $true)]
  [OutputType([Microsoft.HyperV.PowerShell.VirtualMachine])]
  param(
    [Parameter(ParameterSetName = 'Name', Mandatory = $true, Position = 0, ValueFromPipeline = $true)][Alias('VMName')][ValidateNotNullOrEmpty()][string[]]$Name,
    [Parameter(ParameterSetName = 'VMObject', Mandatory = $true, Position = 0, ValueFromPipeline = $true)][ValidateNotNullOrEmpty()][Microsoft.HyperV.PowerShell.VirtualMachine[]]$VM,
    [switch]$Force, [switch]$AsJob, [switch]$Passthru,
    [Parameter(ParameterSetName = 'Name')][object[]]$CimSession,
    [Parameter(ParameterSetName = 'Name')][string[]]$ComputerName,
    [Parameter(ParameterSetName = 'Name')][pscredential[]]$Credential
  )
  process {
    Use-CallerPreference $PSCmdlet
    Assert-Local $PSCmdlet
    foreach ($v in (Get-HvTargets $PSCmdlet $VM $Name)) {
      # Remove-VM always asks (ShouldContinue) unless -Force
      if (-not $Force -and -not $PSCmdlet.ShouldContinue("Are you sure you want to remove the virtual machine '$($v.Name)'?", 'Remove-VM')) { continue }
      Invoke-HvVMAction $PSCmdlet $v $null 'remove-vm' 'Remove-VM' $Passthru $AsJob
    }
  }
}

function Remove-VMSnapshot {
  [CmdletBinding(DefaultParameterSetName = 'SnapshotName', SupportsShouldProcess = $true)]
  [OutputType([Microsoft.HyperV.PowerShell.VMSnapshot])]
  param(
    [Parameter(ParameterSetName = 'SnapshotName', Mandatory = $true, Position = 0, ValueFromPipeline = $true)][ValidateNotNullOrEmpty()][string[]]$VMName,
    [Parameter(ParameterSetName = 'VMObject', Mandatory = $true, Position = 0, ValueFromPipeline = $true)][ValidateNotNullOrEmpty()][Microsoft.HyperV.PowerShell.VirtualMachine[]]$VM,
    [Parameter(ParameterSetName = 'SnapshotObject', Mandatory = $true, Position = 0, ValueFromPipeline = $true)][Alias('VMCheckpoint')][ValidateNotNullOrEmpty()][Microsoft.HyperV.PowerShell.VMSnapshot[]]$VMSnapshot,
    [Parameter(ParameterSetName = 'SnapshotName', Position = 1)][Parameter(ParameterSetName = 'VMObject', Position = 1)][ValidateNotNullOrEmpty()][string[]]$Name,
    [Alias('IncludeAllChildCheckpoints')][switch]$IncludeAllChildSnapshots,
    [switch]$AsJob, [switch]$Passthru,
    [Parameter(ParameterSetName = 'SnapshotName')][object[]]$CimSession,
    [Parameter(ParameterSetName = 'SnapshotName')][string[]]$ComputerName,
    [Parameter(ParameterSetName = 'SnapshotName')][pscredential[]]$Credential
  )
  process {
    Use-CallerPreference $PSCmdlet
    Assert-Local $PSCmdlet
    if ($AsJob) { $PSCmdlet.ThrowTerminatingError([Management.Automation.ErrorRecord]::new([NotSupportedException]::new('hyperv-sim: -AsJob is not simulated'), 'NotSimulated', 'NotImplemented', $null)) }
    $snaps = @($VMSnapshot)
    if ($PSCmdlet.ParameterSetName -ne 'SnapshotObject') {
      $vms = if ($PSCmdlet.ParameterSetName -eq 'VMObject') { @($VM) } else { @(Get-HvVMs $PSCmdlet $VMName) }
      $snaps = @(foreach ($v in $vms) { if ($Name) { foreach ($n in $Name) { Get-VMSnapshot -VM $v -Name $n } } else { Get-VMSnapshot -VM $v } })
    }
    foreach ($s in $snaps) {
      if ($null -eq $s -or -not $PSCmdlet.ShouldProcess($s.Name, 'Remove-VMSnapshot')) { continue }
      $r = Invoke-Hv $PSCmdlet 'remove-snapshot' @{ snapshotId = $s.Id.ToString() } $s
      if ($r.ok -and $Passthru) { $s }
    }
  }
}

Export-ModuleMember -Function 'Get-VM', 'Get-VMIntegrationService', 'Get-VMSecurity', 'Get-VMHardDiskDrive', 'Get-VMNetworkAdapter', 'Set-VM',
  'Checkpoint-VM', 'Get-VMSnapshot', 'Get-VMHost', 'Export-VMSnapshot', 'Compare-VM', 'Disconnect-VMNetworkAdapter', 'Connect-VMNetworkAdapter', 'Get-VMSwitch', 'Import-VM',
  'Rename-VM', 'Resume-VM', 'Start-VM', 'Stop-VM', 'Remove-VM', 'Remove-VMSnapshot'
