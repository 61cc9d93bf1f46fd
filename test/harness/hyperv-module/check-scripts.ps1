<#
  Parses TwinSnap's Hyper-V scripts with PowerShell's own parser and walks each syntax tree for
  what Windows PowerShell 5.1 (the real target) lacks. Input: a JSON file of [{ name, text }];
  output: one JSON line [{ name, parseErrors: [..], ps51: [..] }]. Run once for all scripts
  (one pwsh start). The list of 7.x-only constructs and why each is here: README.md in this folder.
#>
param([Parameter(Mandatory)][string]$InputPath)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3
$items = Get-Content -LiteralPath $InputPath -Raw | ConvertFrom-Json

# Cmdlets that do not exist in Windows PowerShell 5.1.
$newCommands = @('Join-String', 'Get-Error', 'Test-Json', 'Get-Uptime', 'ConvertFrom-Markdown', 'Show-Markdown',
  'Set-MarkdownOption', 'Get-MarkdownOption', 'Remove-Alias', 'Remove-Service', 'ConvertTo-CliXml', 'ConvertFrom-CliXml',
  'Get-SecureRandom', 'Get-PSSubsystem', 'Enable-ExperimentalFeature', 'Disable-ExperimentalFeature', 'Get-ExperimentalFeature')
# Parameters added after 5.1, by cmdlet (aliases of the cmdlets are resolved below).
$newParameters = @{
  'ForEach-Object'   = @('Parallel', 'ThrottleLimit', 'TimeoutSeconds', 'AsJob', 'UseNewRunspace')
  'Where-Object'     = @('Not')
  'ConvertFrom-Json' = @('AsHashtable', 'Depth', 'NoEnumerate', 'DateKind')
  'ConvertTo-Json'   = @('EnumsAsStrings', 'AsArray', 'EscapeHandling')
  'Get-Content'      = @('AsByteStream')
  'Set-Content'      = @('AsByteStream')
  'Add-Content'      = @('AsByteStream')
  'Join-Path'        = @('AdditionalChildPath')
  'Select-Object'    = @('SkipIndex')
  'Sort-Object'      = @('Top', 'Bottom', 'Stable')
  'Get-Date'         = @('AsUTC', 'UnixTimeSeconds')
  'Start-Sleep'      = @('Duration')
  'Select-String'    = @('Raw', 'NoEmphasis', 'Culture')
  'Split-Path'       = @('Extension', 'LeafBase')
  'Invoke-RestMethod' = @('SkipCertificateCheck', 'StatusCodeVariable', 'ResponseHeadersVariable', 'Authentication', 'Token', 'SslProtocol', 'SkipHttpErrorCheck')
  'Invoke-WebRequest' = @('SkipCertificateCheck', 'Authentication', 'Token', 'SslProtocol', 'SkipHttpErrorCheck')
  'Test-Path'        = @('OlderThan', 'NewerThan')
  'Out-String'       = @('NoNewline')
  'Remove-Item'      = @('InformationVariable')
}
# 5.1 parameters that are prefixes of a later one (an abbreviation check must not flag them).
$known51 = @('Skip', 'Index', 'Top', 'As', 'Raw', 'Not', 'Path')
$aliases = @{ '%' = 'ForEach-Object'; 'foreach' = 'ForEach-Object'; '?' = 'Where-Object'; 'where' = 'Where-Object'; 'sort' = 'Sort-Object'; 'select' = 'Select-Object'; 'gc' = 'Get-Content'; 'sc' = 'Set-Content'; 'sls' = 'Select-String'; 'sleep' = 'Start-Sleep' }
# Automatic variables that 5.1 does not set (a script reading them sees $null there).
$newVariables = @('IsWindows', 'IsLinux', 'IsMacOS', 'IsCoreCLR', 'PSStyle', 'PSNativeCommandArgumentPassing', 'PSNativeCommandUseErrorActionPreference')
# .NET methods that .NET Framework 4.x (under 5.1) lacks: [type]::method or .method.
$newStaticMethods = @('GetRelativePath', 'ToHexString', 'FromHexString', 'Clamp', 'CreateSymbolicLink', 'ReadAllTextAsync', 'WriteAllTextAsync', 'ReadAllBytesAsync', 'CreateVersion7', 'ReplaceLineEndings')
$newStaticMembers = @('ProcessId', 'ProcessPath', 'Shared', 'Latin1')

function Find-All($ast, [scriptblock]$pred) { @($ast.FindAll($pred, $true)) }
function At($a) { 'line ' + $a.Extent.StartLineNumber + ': ' + $a.Extent.Text.Split("`n")[0].Trim() }

$out = foreach ($it in $items) {
  $tokens = $null; $errors = $null
  $ast = [System.Management.Automation.Language.Parser]::ParseInput([string]$it.text, [ref]$tokens, [ref]$errors)
  $bad = New-Object System.Collections.Generic.List[string]
  foreach ($a in Find-All $ast { param($n) $n -is [System.Management.Automation.Language.PipelineChainAst] }) { $bad.Add('pipeline chain && / || (7.0): ' + (At $a)) }
  foreach ($a in Find-All $ast { param($n) $n -is [System.Management.Automation.Language.TernaryExpressionAst] }) { $bad.Add('ternary ?: (7.0): ' + (At $a)) }
  foreach ($a in Find-All $ast { param($n) $n -is [System.Management.Automation.Language.BinaryExpressionAst] -and $n.Operator -eq 'QuestionQuestion' }) { $bad.Add('null-coalescing ?? (7.0): ' + (At $a)) }
  foreach ($a in Find-All $ast { param($n) $n -is [System.Management.Automation.Language.AssignmentStatementAst] -and $n.Operator -eq 'QuestionQuestionEquals' }) { $bad.Add('null-coalescing assignment ??= (7.0): ' + (At $a)) }
  foreach ($a in Find-All $ast { param($n) ($n -is [System.Management.Automation.Language.MemberExpressionAst] -or $n -is [System.Management.Automation.Language.IndexExpressionAst]) -and $n.NullConditional }) { $bad.Add('null-conditional ?. / ?[] (7.1): ' + (At $a)) }
  foreach ($a in Find-All $ast { param($n) $n -is [System.Management.Automation.Language.ScriptBlockAst] -and $null -ne $n.CleanBlock }) { $bad.Add('clean {} block (7.3): ' + (At $a.CleanBlock)) }
  foreach ($a in Find-All $ast { param($n) $n -is [System.Management.Automation.Language.VariableExpressionAst] -and $newVariables -contains $n.VariablePath.UserPath }) { $bad.Add('automatic variable missing in 5.1: ' + (At $a)) }
  foreach ($a in Find-All $ast { param($n) $n -is [System.Management.Automation.Language.ConstantExpressionAst] -and $n.StaticType -ne [string] -and $n.Extent.Text -match '^(0b[01]+|[0-9][0-9a-fx]*(u|y|uy|s|us|ul|n))$' }) { $bad.Add('numeric literal suffix or binary literal (6.2/7.0): ' + (At $a)) }
  foreach ($t in @($tokens | Where-Object { $_.Kind -eq 'StringExpandable' -or $_.Kind -eq 'HereStringExpandable' })) { if ($t.Text -match '`u\{') { $bad.Add('`u{} escape (6.0): line ' + $t.Extent.StartLineNumber) } }
  foreach ($a in Find-All $ast { param($n) $n -is [System.Management.Automation.Language.InvokeMemberExpressionAst] -or ($n -is [System.Management.Automation.Language.MemberExpressionAst] -and $n.Static) }) {
    $m = [string]$a.Member.Extent.Text
    if ($a -is [System.Management.Automation.Language.InvokeMemberExpressionAst] -and $newStaticMethods -contains $m) { $bad.Add(".NET method missing from .NET Framework ($m): " + (At $a)) }
    elseif ($a -isnot [System.Management.Automation.Language.InvokeMemberExpressionAst] -and $newStaticMembers -contains $m) { $bad.Add(".NET member missing from .NET Framework ($m): " + (At $a)) }
  }
  foreach ($c in Find-All $ast { param($n) $n -is [System.Management.Automation.Language.CommandAst] }) {
    $name = $c.GetCommandName()
    if (-not $name) { continue }
    $plain = ($name -split '\\')[-1]
    if ($aliases.ContainsKey($plain)) { $plain = $aliases[$plain] }
    if ($newCommands -contains $plain) { $bad.Add("cmdlet missing in 5.1 ($plain): " + (At $c)); continue }
    $deny = $newParameters[$plain]
    if (-not $deny) { continue }
    foreach ($p in @($c.CommandElements | Where-Object { $_ -is [System.Management.Automation.Language.CommandParameterAst] })) {
      $given = $p.ParameterName
      if ($known51 -contains $given -and $deny -notcontains $given) { continue }
      foreach ($d in $deny) { if ($given.Length -ge 2 -and $d.StartsWith($given, [StringComparison]::OrdinalIgnoreCase)) { $bad.Add("parameter missing in 5.1 ($plain -$d): " + (At $c)) } }
    }
  }
  [pscustomobject]@{ name = [string]$it.name; parseErrors = @($errors | ForEach-Object { 'line ' + $_.Extent.StartLineNumber + ': ' + $_.Message }); ps51 = @($bad) }
}
[Console]::Out.WriteLine((ConvertTo-Json -InputObject @($out) -Depth 5 -Compress))
