# The stand-in modules' client of the simulated host (dot-sourced by Hyper-V.psm1 and
# ../CimCmdlets/CimCmdlets.psm1; each module keeps its own backend process per session).

. (Join-Path $PSScriptRoot '../load-types.ps1')
$script:Backend = $null

function Invoke-HvHost([string]$Op, [hashtable]$Arguments) {
  $b = $script:Backend
  if (-not $b -or $b.HasExited) {
    $node = $env:HYPERV_SIM_NODE
    if (-not $node) { $node = (Get-Command -Name node -CommandType Application -ErrorAction Stop | Select-Object -First 1).Source }
    $psi = [Diagnostics.ProcessStartInfo]::new($node)
    $psi.ArgumentList.Add((Join-Path $PSScriptRoot '../../hyperv-sim/lib/host-backend.mjs'))
    $psi.ArgumentList.Add('--serve')
    $psi.UseShellExecute = $false
    $psi.RedirectStandardInput = $true
    $psi.RedirectStandardOutput = $true
    $psi.StandardInputEncoding = [Text.UTF8Encoding]::new($false)
    $psi.StandardOutputEncoding = [Text.UTF8Encoding]::new($false)
    $b = [Diagnostics.Process]::Start($psi)
    $script:Backend = $b
  }
  if ($null -eq $Arguments) { $Arguments = @{} }
  $b.StandardInput.WriteLine((ConvertTo-Json -InputObject @{ op = $Op; args = $Arguments } -Compress -Depth 10))
  $b.StandardInput.Flush()
  $line = $b.StandardOutput.ReadLine()
  if ($null -eq $line) { throw [InvalidOperationException]::new('hyperv-sim: the simulated host ended') }
  ConvertFrom-Json -InputObject $line -AsHashtable
}

# Runs one host operation for $Cmdlet. Failures become non-terminating errors (WriteError), as in
# the real module; the answer is @{ ok; value }.
function Invoke-Hv($Cmdlet, [string]$Op, [hashtable]$Arguments, $Target) {
  $r = Invoke-HvHost $Op $Arguments
  if ($r.ok) {
    $v = $r.result
    if ($v -is [System.Collections.IDictionary] -and $v.Contains('warning')) { $Cmdlet.WriteWarning([string]$v.warning) }
    return @{ ok = $true; value = $v }
  }
  $e = $r.error
  $ex = [Microsoft.HyperV.PowerShell.VirtualizationException]::new([string]$e.message)
  $cat = [Management.Automation.ErrorCategory]::NotSpecified
  [void][Enum]::TryParse([string]$e.category, [ref]$cat)
  $Cmdlet.WriteError([Management.Automation.ErrorRecord]::new($ex, [string]$e.errorId, $cat, $Target))
  @{ ok = $false; value = $null }
}

# Compiled cmdlets see their caller's preference variables; script-module functions see only the
# module's and the global ones. Copy the caller's into the function's scope (unless given as
# common parameters), so -ErrorAction / $ErrorActionPreference = 'Stop' act as on the real module.
function Use-CallerPreference($Cmdlet) {
  $bound = $Cmdlet.MyInvocation.BoundParameters
  foreach ($p in @(@('ErrorActionPreference', 'ErrorAction'), @('WarningPreference', 'WarningAction'), @('ConfirmPreference', 'Confirm'), @('WhatIfPreference', 'WhatIf'), @('ProgressPreference', ''))) {
    if ($p[1] -and $bound.ContainsKey($p[1])) { continue }
    Set-Variable -Scope 1 -Name $p[0] -Value $Cmdlet.SessionState.PSVariable.GetValue($p[0])
  }
}

