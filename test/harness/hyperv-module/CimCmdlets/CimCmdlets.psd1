@{
  # Stand-in for the CimCmdlets module (Windows only) for TwinSnap's tests; see ../README.md.
  RootModule        = 'CimCmdlets.psm1'
  ModuleVersion     = '7.0.0.0'
  GUID              = 'b2e6b2d3-6e2d-4b2d-8c1f-8f2e3d4c5b61'
  Author            = 'TwinSnap tests'
  Description       = 'TwinSnap test stand-in for Get-CimInstance / Invoke-CimMethod on the Hyper-V WMI classes the scripts use.'
  PowerShellVersion = '5.1'
  FunctionsToExport = @('Get-CimInstance', 'Invoke-CimMethod')
  CmdletsToExport   = @()
  AliasesToExport   = @()
  VariablesToExport = @()
}
