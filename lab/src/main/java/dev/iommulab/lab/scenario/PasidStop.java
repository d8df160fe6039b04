package dev.iommulab.lab.scenario;

/**
 * Step {@code pasid-stop}: the device driver tells the endpoint to stop using a PASID (PCIe "stop marker" PASID
 * stop: work items of the PASID aborted once their non-posted requests retired, unsent page request groups dropped,
 * an open group finished with its LPIG, then a Stop Marker), for exactly one of {@code pasid} or {@code process}.
 *
 * @param device declared device name
 * @param pasid explicit PASID, or {@code null}
 * @param process declared process whose PASID is used, or {@code null}
 * @param atNs simulated time to run at, or {@code null}
 * @param location where the step is written
 */
public record PasidStop(String device, Integer pasid, String process, Long atNs, SourceLocation location)
        implements Step, DeviceRef, ProcessRef {

    /** Validates the fields. */
    public PasidStop {
        Checks.name(device, "device");
        Checks.optionalRange(pasid, 0, Checks.MAX_PASID, "pasid");
        if ((pasid == null) == (process == null)) {
            throw new IllegalArgumentException("pasid-stop takes exactly one of pasid or process");
        }
        Checks.step(atNs, location);
    }
}
