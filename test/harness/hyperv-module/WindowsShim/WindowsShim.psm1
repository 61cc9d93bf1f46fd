# Imported at the start of every stand-in PowerShell session (../powershell), before any TwinSnap
# script is compiled: off Windows, the script's type names Security.Principal.WindowsIdentity /
# WindowsPrincipal / SecurityIdentifier / WindowsBuiltInRole resolve to the stand-in's types
# (StandInTypes.cs), so the elevation check runs unchanged. On Windows nothing is replaced.
. (Join-Path $PSScriptRoot '../load-types.ps1')
if (-not $IsWindows) {
  $accelerators = [psobject].Assembly.GetType('System.Management.Automation.TypeAccelerators')
  foreach ($n in 'WindowsIdentity', 'WindowsPrincipal', 'SecurityIdentifier', 'WindowsBuiltInRole') {
    $accelerators::Add('Security.Principal.' + $n, ('TwinSnap.StandIn.Principal.' + $n) -as [type])
  }
}
