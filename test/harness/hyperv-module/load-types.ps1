# Loads StandInTypes.cs (the stand-in's .NET types). Compiling takes seconds and every PowerShell
# session would pay it, so the assembly is built once per content and PowerShell version into
# .cache/hyperv-module (or HYPERV_SIM_TYPES_CACHE) and loaded from there.
if (-not ('Microsoft.HyperV.PowerShell.VirtualMachine' -as [type])) {
  $cs = Join-Path $PSScriptRoot 'StandInTypes.cs'
  $hash = (Get-FileHash -LiteralPath $cs -Algorithm SHA256).Hash.Substring(0, 16)
  $cache = $env:HYPERV_SIM_TYPES_CACHE
  if (-not $cache) { $cache = Join-Path $PSScriptRoot '../../../.cache/hyperv-module' }
  $dll = Join-Path $cache ('StandInTypes-' + $hash + '-' + $PSVersionTable.PSVersion.ToString() + '.dll')
  if (-not (Test-Path -LiteralPath $dll)) {
    [void](New-Item -ItemType Directory -Force -Path $cache)
    $tmp = Join-Path $cache ('build-' + $PID + '-' + [Guid]::NewGuid().ToString('N') + '.dll')
    Add-Type -LiteralPath $cs -OutputAssembly $tmp -OutputType Library
    Move-Item -LiteralPath $tmp -Destination $dll -Force
  }
  if (-not ('Microsoft.HyperV.PowerShell.VirtualMachine' -as [type])) { Add-Type -LiteralPath $dll }
}
