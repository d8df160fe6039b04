package dev.iommulab.lab.scenario;

/**
 * One entry of a scenario's {@code expect} list: something that must hold after the run. The runner
 * reports each as holding or not, with what was seen instead.
 */
public sealed interface Expectation
        permits PageResponseExpect, DmaExpect, FaultRecordExpect, DeviceExpect, LogExpect, ParkedExpect,
        StepErrorExpect, FaultReadExpect, FaultWriteExpect, FaultQueueExpect, GuestExpect,
        VirtioEventExpect {

    /** Where the expectation is written (its kind key). */
    SourceLocation location();

    /** Short human text, e.g. {@code page-response acc0 SUCCESS x2} or {@code dma acc0 ok}. */
    String describe();
}
