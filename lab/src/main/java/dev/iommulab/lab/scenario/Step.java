package dev.iommulab.lab.scenario;

/**
 * One entry of a scenario's {@code steps} list. Each kind is a record named after the step, with one entry in
 * {@link StepKinds}; its {@link #kind()} is the key used in the file.
 *
 * <p>Without {@code at}, a step runs when the previous step's work is idle; with {@code at}, at that
 * simulated time.
 */
public sealed interface Step
        permits SvaBind, SvaUnbind, Attach, MapStep, UnmapStep, Dma, PageRequest, StopMarker, PasidStop, Mmap, Munmap,
        Mprotect, ExitProcess, FailAllocations, Flr, RemoveDevice, Run, VfioBind, VfioUnbind, VfioAttach, VfioReplace,
        VfioDetach, VfioPasidStop, IoasMap, IoasUnmap, FaultRead, FaultWrite, FaultClose, IommufdClose, GuestStep,
        FaultHandlerStep {

    /** The file key of this step kind, e.g. {@code sva-bind} (from {@link StepKinds}). */
    default String kind() {
        return StepKinds.keyOf(this);
    }

    /** Simulated time in ns at which the step runs, or {@code null} to run when the previous step is idle. */
    Long atNs();

    /** Where the step is written (its kind key). */
    SourceLocation location();
}
