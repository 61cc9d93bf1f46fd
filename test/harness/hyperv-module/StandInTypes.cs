// The object model of the Hyper-V stand-in module (Hyper-V/Hyper-V.psm1): the real module's public class and enum names
// (namespace Microsoft.HyperV.PowerShell), their property names and .NET types, and enum values
// as the real module 2.0.0.0 defines them (sources in ../README.md). Properties are read-only to
// scripts, as on the real objects; the module fills them from the simulated host's answers.
using System;
using System.Collections;
using System.Management.Automation;

namespace Microsoft.HyperV.PowerShell
{
    public enum VMState { Other = 1, Running = 2, Off = 3, Stopping = 4, Saved = 6, Paused = 9, Starting = 10, Reset = 11, Saving = 32773, Pausing = 32776, Resuming = 32777, FastSaved = 32779, FastSaving = 32780, ForceShutdown = 32781, ForceReboot = 32782, Hibernated = 32783, ComponentServicing = 32784, RunningCritical = 32785, OffCritical = 32786, StoppingCritical = 32787, SavedCritical = 32788, PausedCritical = 32789, StartingCritical = 32790, ResetCritical = 32791, SavingCritical = 32792, PausingCritical = 32793, ResumingCritical = 32794, FastSavedCritical = 32795, FastSavingCritical = 32796 }
    public enum CheckpointType { Disabled = 2, Production = 3, ProductionOnly = 4, Standard = 5 }
    public enum ControllerType { IDE = 0, SCSI = 1, PMEM = 2 }
    public enum VMIntegrationComponentOperationalStatus { Ok = 2, Degraded = 3, Error = 6, NonRecoverableError = 7, NoContact = 12, LostCommunication = 13, ProtocolMismatch = 32775, ApplicationCritical = 32782, CommunicationTimedOut = 32783, CommunicationFailed = 32784, Disabled = 32896 }
    public enum SnapshotType { Standard = 0, Recovery = 1, Planned = 2, Missing = 5, Replica = 6, AppConsistentReplica = 7, SyncedReplica = 8 }
    public enum OperationType { MoveVirtualMachine = 0, ImportVirtualMachine = 1, MoveVirtualMachineAndStorage = 2 }
    public enum VMSwitchType { Private = 0, Internal = 1, External = 2 }

    /// The exception type the real module's errors carry.
    public class VirtualizationException : Exception
    {
        public VirtualizationException(string message) : base(message) { }
    }

    /// Fills an object's read-only properties from a dictionary (the simulated host's JSON answer).
    public abstract class StandInObject
    {
        public void StandInFill(IDictionary values)
        {
            foreach (DictionaryEntry e in values)
            {
                var p = GetType().GetProperty((string)e.Key);
                if (p == null) continue;
                // a private setter of a base class is only reachable through its declaring type
                p = p.DeclaringType.GetProperty(p.Name);
                if (!p.CanWrite) continue;
                var v = e.Value is PSObject ps ? ps.BaseObject : e.Value;
                p.SetValue(this, v == null ? null : LanguagePrimitives.ConvertTo(v, p.PropertyType, System.Globalization.CultureInfo.InvariantCulture));
            }
        }
    }

    public class VirtualMachine : StandInObject
    {
        public Guid Id { get; private set; }
        public Guid VMId { get { return Id; } }
        public string Name { get; private set; }
        public string VMName { get { return Name; } }
        public VMState State { get; private set; }
        public string Status { get; private set; }
        public long MemoryAssigned { get; private set; }
        public long MemoryStartup { get; private set; }
        public long ProcessorCount { get; private set; }
        public int Generation { get; private set; }
        public CheckpointType CheckpointType { get; private set; }
        public bool AutomaticCheckpointsEnabled { get; private set; }
        public string Notes { get; private set; }
        public string Path { get; private set; }
        public string ConfigurationLocation { get; private set; }
        public string SnapshotFileLocation { get; private set; }
        public string ComputerName { get; private set; }
        public bool IsDeleted { get; private set; }
        public override string ToString() { return "VirtualMachine (Name = '" + Name + "') [Id = '" + Id + "']"; }
    }

    public class VMSnapshot : StandInObject
    {
        public Guid Id { get; private set; }
        public string Name { get; private set; }
        public Guid VMId { get; private set; }
        public string VMName { get; private set; }
        public SnapshotType SnapshotType { get; private set; }
        public bool IsAutomaticCheckpoint { get; private set; }
        public Guid? ParentSnapshotId { get; private set; }
        public string Path { get; private set; }
        public DateTime CreationTime { get; private set; }
        public VMState State { get; private set; }
        public string ComputerName { get; private set; }
    }

    public class HardDiskDrive : StandInObject
    {
        public string Name { get; private set; }
        public string Id { get; private set; }
        public Guid VMId { get; private set; }
        public string VMName { get; private set; }
        public Guid? VMSnapshotId { get; private set; }
        public string VMSnapshotName { get; private set; }
        public ControllerType ControllerType { get; private set; }
        public int ControllerNumber { get; private set; }
        public int ControllerLocation { get; private set; }
        public string Path { get; private set; }
        public string ComputerName { get; private set; }
    }

    public class VMNetworkAdapterBase : StandInObject
    {
        public string Name { get; private set; }
        public string Id { get; private set; }
        public Guid VMId { get; private set; }
        public string VMName { get; private set; }
        public string SwitchName { get; private set; }
        public string MacAddress { get; private set; }
        public string ComputerName { get; private set; }
    }

    public class VMNetworkAdapter : VMNetworkAdapterBase
    {
        public bool Connected { get; private set; }
        public bool IsLegacy { get; private set; }
    }

    public class VMIntegrationComponent : StandInObject
    {
        public string Name { get; private set; }
        public string Id { get; private set; }
        public Guid VMId { get; private set; }
        public string VMName { get; private set; }
        public bool Enabled { get; private set; }
        public VMIntegrationComponentOperationalStatus? PrimaryOperationalStatus { get; private set; }
        public VMIntegrationComponentOperationalStatus? SecondaryOperationalStatus { get; private set; }
        public string PrimaryStatusDescription { get; private set; }
        public string ComputerName { get; private set; }
    }

    public class VMSecurity : StandInObject
    {
        public bool TpmEnabled { get; private set; }
        public bool KsdEnabled { get; private set; }
        public bool Shielded { get; private set; }
        public bool EncryptStateAndVmMigrationTraffic { get; private set; }
        public bool VirtualizationBasedSecurityOptOut { get; private set; }
        public bool BindToHostTpm { get; private set; }
    }

    public class VMSwitch : StandInObject
    {
        public string Name { get; private set; }
        public Guid Id { get; private set; }
        public VMSwitchType SwitchType { get; private set; }
        public string NetAdapterInterfaceDescription { get; private set; }
        public bool AllowManagementOS { get; private set; }
        public string ComputerName { get; private set; }
    }

    public class VMHost : StandInObject
    {
        public string ComputerName { get; private set; }
        public string VirtualMachinePath { get; private set; }
        public string VirtualHardDiskPath { get; private set; }
    }

    public class VMCompatibilityError
    {
        public string Message { get; private set; }
        public long MessageId { get; private set; }
        public object Source { get; private set; }
        public VMCompatibilityError(string message, long messageId, object source) { Message = message; MessageId = messageId; Source = source; }
    }

    public class VMCompatibilityReport : StandInObject
    {
        public VirtualMachine VM { get; private set; }
        public OperationType OperationType { get; private set; }
        public string Destination { get; private set; }
        public string Path { get; private set; }
        public string SnapshotPath { get; private set; }
        public string VhdDestinationPath { get; private set; }
        public string VhdSourcePath { get; private set; }
        public VMCompatibilityError[] Incompatibilities { get; private set; }
        /// The simulated host's id of the planned VM this report describes (not on the real class).
        internal string PlannedId;
        public static VMCompatibilityReport StandInCreate(VirtualMachine vm, string path, VMCompatibilityError[] incompatibilities, string plannedId)
        {
            var r = new VMCompatibilityReport { VM = vm, OperationType = OperationType.ImportVirtualMachine, Path = path, Incompatibilities = incompatibilities ?? new VMCompatibilityError[0] };
            r.PlannedId = plannedId;
            return r;
        }
        public static string StandInPlannedId(VMCompatibilityReport r) { return r.PlannedId; }
    }
}

// Windows-only types the scripts use for the elevation check (System.Security.Principal throws
// PlatformNotSupportedException off Windows). WindowsShim/WindowsShim.psm1 maps the script's
// type names `Security.Principal.*` onto these (type accelerators). Same members as the .NET ones
// the scripts call; the answers come from HYPERV_SIM_ELEVATED / HYPERV_SIM_HVADMIN.
namespace TwinSnap.StandIn.Principal
{
    public enum WindowsBuiltInRole { Administrator = 544, User = 545, Guest = 546, PowerUser = 547, AccountOperator = 548, SystemOperator = 549, PrintOperator = 550, BackupOperator = 551, Replicator = 552 }
    public sealed class SecurityIdentifier
    {
        public string Value { get; private set; }
        public SecurityIdentifier(string sddlForm)
        {
            if (sddlForm == null || !sddlForm.StartsWith("S-1-")) throw new System.ArgumentException("Value was invalid.", "sddlForm");
            Value = sddlForm;
        }
        public override string ToString() { return Value; }
    }
    public class WindowsIdentity
    {
        public string Name { get { return "SIM\\twinsnap"; } }
        public static WindowsIdentity GetCurrent() { return new WindowsIdentity(); }
    }
    public class WindowsPrincipal
    {
        public WindowsPrincipal(WindowsIdentity ntIdentity) { if (ntIdentity == null) throw new System.ArgumentNullException("ntIdentity"); }
        public bool IsInRole(WindowsBuiltInRole role)
        {
            return role == WindowsBuiltInRole.Administrator && System.Environment.GetEnvironmentVariable("HYPERV_SIM_ELEVATED") != "0";
        }
        public bool IsInRole(SecurityIdentifier sid)
        {
            if (sid.Value == "S-1-5-32-544") return IsInRole(WindowsBuiltInRole.Administrator);
            return sid.Value == "S-1-5-32-578" && System.Environment.GetEnvironmentVariable("HYPERV_SIM_HVADMIN") == "1";
        }
    }
}
