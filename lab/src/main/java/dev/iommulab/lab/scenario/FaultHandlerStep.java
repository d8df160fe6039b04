package dev.iommulab.lab.scenario;

import java.util.List;

/**
 * Step {@code fault-handler}: the device's driver installs a fault handler on the domain at its RID with
 * {@code iommu_set_fault_handler()}, in one of the patterns drivers use: print the fault, reset the device (as
 * remoteproc recovers), or dump the device's state. It runs when an IOMMU driver calls {@code report_iommu_fault()}
 * for that domain.
 *
 * @param device  declared device name
 * @param handler one of {@link #HANDLERS}
 * @param atNs    simulated time to run at, or {@code null}
 * @param location where the step is written
 */
public record FaultHandlerStep(String device, String handler, Long atNs, SourceLocation location)
        implements Step, DeviceRef {

    /** The handler patterns (dev.iommulab.core.fault.IommuFaultHandlers). */
    public static final List<String> HANDLERS = List.of("print", "reset", "dump");

    public FaultHandlerStep {
        Checks.name(device, "device");
        Checks.oneOf(handler, HANDLERS, "handler");
        Checks.step(atNs, location);
    }
}
