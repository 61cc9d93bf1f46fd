@{
  # Stand-in for Microsoft's Hyper-V module (2.0.0.0) for TwinSnap's tests; see ../README.md.
  RootModule        = 'Hyper-V.psm1'
  ModuleVersion     = '2.0.0.0'
  GUID              = 'a1d5a1c2-5d1c-4a1c-9b0e-7e1d2c3b4a50'
  Author            = 'TwinSnap tests'
  Description       = 'TwinSnap test stand-in for the Hyper-V module: real cmdlet signatures, simulated host on QEMU.'
  PowerShellVersion = '5.1'
  FunctionsToExport = @('Get-VM', 'Get-VMIntegrationService', 'Get-VMSecurity', 'Get-VMHardDiskDrive', 'Get-VMNetworkAdapter', 'Set-VM',
    'Checkpoint-VM', 'Get-VMSnapshot', 'Get-VMHost', 'Export-VMSnapshot', 'Compare-VM', 'Disconnect-VMNetworkAdapter', 'Connect-VMNetworkAdapter', 'Get-VMSwitch', 'Import-VM',
    'Rename-VM', 'Resume-VM', 'Start-VM', 'Stop-VM', 'Remove-VM', 'Remove-VMSnapshot')
  CmdletsToExport   = @()
  AliasesToExport   = @()
  VariablesToExport = @()
}
