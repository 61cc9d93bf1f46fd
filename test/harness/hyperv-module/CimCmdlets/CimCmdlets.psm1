# Stand-in for Get-CimInstance and Invoke-CimMethod (CimCmdlets, Windows only) limited to the
# Hyper-V WMI classes TwinSnap's scripts use: root\virtualization\v2 Msvm_ShutdownComponent and its
# InitiateShutdown(Force, Reason) method (Microsoft Learn: "Msvm_ShutdownComponent class" and
# "InitiateShutdown method of the Msvm_ShutdownComponent class"), and Msvm_KvpExchangeComponent's
# GuestIntrinsicExchangeItems (Microsoft Learn: "Msvm_KvpExchangeComponent class",
# "Msvm_KvpExchangeDataItem class"). Parameter sets follow the
# cmdlet reference pages (get-ciminstance, invoke-cimmethod); instances are PSObjects typed
# `Microsoft.Management.Infrastructure.CimInstance#root/virtualization/v2/Msvm_ShutdownComponent`
# because a real CimInstance cannot be made without Windows' MI library. The host is the same
# simulated one the Hyper-V stand-in uses.
Set-StrictMode -Version 3
. (Join-Path $PSScriptRoot '../Hyper-V/host-client.ps1')

$script:Classes = @{ 'root/virtualization/v2:msvm_shutdowncomponent' = 'Msvm_ShutdownComponent'; 'root/virtualization/v2:msvm_kvpexchangecomponent' = 'Msvm_KvpExchangeComponent' }
$script:HostOps = @{ 'Msvm_ShutdownComponent' = 'shutdown-components'; 'Msvm_KvpExchangeComponent' = 'kvp-components' }

function Stop-NotSimulated($Cmdlet, [string]$What) {
  $Cmdlet.ThrowTerminatingError([Management.Automation.ErrorRecord]::new([NotSupportedException]::new("hyperv-sim: $What is not simulated"), 'NotSimulated', 'NotImplemented', $null))
}

function Get-CimInstance {
  [CmdletBinding(DefaultParameterSetName = 'ClassNameComputerSet')]
  param(
    [Parameter(ParameterSetName = 'ClassNameComputerSet', Mandatory = $true, Position = 0)][Parameter(ParameterSetName = 'ClassNameSessionSet', Mandatory = $true, Position = 0)][string]$ClassName,
    [Parameter(ParameterSetName = 'ClassNameComputerSet')][Parameter(ParameterSetName = 'ClassNameSessionSet')][Parameter(ParameterSetName = 'QueryComputerSet')][Parameter(ParameterSetName = 'QuerySessionSet')][string]$Namespace,
    [Parameter(ParameterSetName = 'ClassNameComputerSet')][Parameter(ParameterSetName = 'ClassNameSessionSet')][string]$Filter,
    [Parameter(ParameterSetName = 'QueryComputerSet', Mandatory = $true)][Parameter(ParameterSetName = 'QuerySessionSet', Mandatory = $true)][string]$Query,
    [Parameter(ParameterSetName = 'CimInstanceComputerSet', Mandatory = $true, Position = 0, ValueFromPipeline = $true)][Parameter(ParameterSetName = 'CimInstanceSessionSet', Mandatory = $true, Position = 0, ValueFromPipeline = $true)][Alias('CimInstance')][psobject]$InputObject,
    [Parameter(ParameterSetName = 'ClassNameComputerSet')][Parameter(ParameterSetName = 'QueryComputerSet')][Parameter(ParameterSetName = 'CimInstanceComputerSet')][Alias('CN', 'ServerName')][string[]]$ComputerName,
    [Parameter(ParameterSetName = 'ClassNameSessionSet', Mandatory = $true)][Parameter(ParameterSetName = 'QuerySessionSet', Mandatory = $true)][Parameter(ParameterSetName = 'CimInstanceSessionSet', Mandatory = $true)][object[]]$CimSession,
    [Alias('SelectProperties')][string[]]$Property,
    [switch]$KeyOnly, [switch]$Shallow, [string]$QueryDialect,
    [Alias('OT')][uint32]$OperationTimeoutSec
  )
  process {
    Use-CallerPreference $PSCmdlet
    if ($PSCmdlet.ParameterSetName -ne 'ClassNameComputerSet' -or $ComputerName -or $Filter -or $Property -or $KeyOnly) { Stop-NotSimulated $PSCmdlet "Get-CimInstance $($PSCmdlet.ParameterSetName) with -ComputerName/-Filter/-Property/-KeyOnly" }
    $ns = if ($Namespace) { $Namespace.Replace('\', '/').ToLowerInvariant() } else { 'root/cimv2' }
    $known = $script:Classes[$ns + ':' + $ClassName.ToLowerInvariant()]
    if (-not $known) {
      $ex = [Management.Automation.RuntimeException]::new('Invalid class ')
      $PSCmdlet.WriteError([Management.Automation.ErrorRecord]::new($ex, 'HRESULT 0x80041010,Microsoft.Management.Infrastructure.CimCmdlets.GetCimInstanceCommand', 'MetadataError', $ClassName))
      return
    }
    $r = Invoke-Hv $PSCmdlet $script:HostOps[$known] @{} $ClassName
    foreach ($c in @($r.value)) {
      if ($null -eq $c) { continue }
      if ($c.Contains('GuestIntrinsicExchangeItems')) { $c['GuestIntrinsicExchangeItems'] = [string[]]@($c['GuestIntrinsicExchangeItems']) }
      $o = [pscustomobject]$c
      $o.PSObject.TypeNames.Insert(0, 'Microsoft.Management.Infrastructure.CimInstance#root/virtualization/v2/' + $known)
      $o.PSObject.TypeNames.Insert(1, 'Microsoft.Management.Infrastructure.CimInstance')
      $o
    }
  }
}

function Invoke-CimMethod {
  [CmdletBinding(DefaultParameterSetName = 'ClassNameComputerSet', SupportsShouldProcess = $true)]
  param(
    [Parameter(ParameterSetName = 'ClassNameComputerSet', Mandatory = $true, Position = 0)][Parameter(ParameterSetName = 'ClassNameSessionSet', Mandatory = $true, Position = 0)][string]$ClassName,
    [Parameter(ParameterSetName = 'CimInstanceComputerSet', Mandatory = $true, Position = 0, ValueFromPipeline = $true)][Parameter(ParameterSetName = 'CimInstanceSessionSet', Mandatory = $true, Position = 0, ValueFromPipeline = $true)][Alias('CimInstance')][psobject]$InputObject,
    [Parameter(Mandatory = $true, Position = 2)][Alias('Name')][string]$MethodName,
    [Parameter(Position = 1)][Collections.IDictionary]$Arguments,
    [Parameter(ParameterSetName = 'ClassNameComputerSet')][Parameter(ParameterSetName = 'ClassNameSessionSet')][string]$Namespace,
    [Parameter(ParameterSetName = 'ClassNameComputerSet')][Parameter(ParameterSetName = 'CimInstanceComputerSet')][Alias('CN', 'ServerName')][string[]]$ComputerName,
    [Parameter(ParameterSetName = 'ClassNameSessionSet', Mandatory = $true)][Parameter(ParameterSetName = 'CimInstanceSessionSet', Mandatory = $true)][object[]]$CimSession,
    [Alias('OT')][uint32]$OperationTimeoutSec
  )
  process {
    Use-CallerPreference $PSCmdlet
    if ($PSCmdlet.ParameterSetName -ne 'CimInstanceComputerSet' -or $ComputerName) { Stop-NotSimulated $PSCmdlet "Invoke-CimMethod $($PSCmdlet.ParameterSetName)" }
    if ($InputObject.PSObject.TypeNames[0] -ne 'Microsoft.Management.Infrastructure.CimInstance#root/virtualization/v2/Msvm_ShutdownComponent' -or $MethodName -ne 'InitiateShutdown') {
      $ex = [Management.Automation.RuntimeException]::new('Method not found ')
      $PSCmdlet.WriteError([Management.Automation.ErrorRecord]::new($ex, 'HRESULT 0x80041055,Microsoft.Management.Infrastructure.CimCmdlets.InvokeCimMethodCommand', 'MetadataError', $MethodName))
      return
    }
    $a = @{}
    if ($Arguments) { foreach ($k in $Arguments.Keys) { $a[[string]$k] = $Arguments[$k] } }
    foreach ($k in $a.Keys) {
      if (@('Force', 'Reason') -notcontains $k) {
        $ex = [Management.Automation.RuntimeException]::new('Invalid parameter ')
        $PSCmdlet.WriteError([Management.Automation.ErrorRecord]::new($ex, 'HRESULT 0x80041008,Microsoft.Management.Infrastructure.CimCmdlets.InvokeCimMethodCommand', 'InvalidArgument', $k))
        return
      }
    }
    if (-not $PSCmdlet.ShouldProcess($InputObject.DeviceID, 'InitiateShutdown')) { return }
    $r = Invoke-Hv $PSCmdlet 'initiate-shutdown' @{ vmId = [string]$InputObject.SystemName; force = [bool]$a['Force']; reason = [string]$a['Reason'] } $InputObject
    if ($r.ok) {
      $o = [pscustomobject]@{ ReturnValue = [uint32]$r.value.ReturnValue; PSComputerName = $null }
      $o.PSObject.TypeNames.Insert(0, 'Microsoft.Management.Infrastructure.CimMethodResult#Msvm_ShutdownComponent#InitiateShutdown')
      $o
    }
  }
}

Export-ModuleMember -Function 'Get-CimInstance', 'Invoke-CimMethod'
