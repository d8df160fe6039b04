package dev.iommulab.lab.run;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import dev.iommulab.hw.sim.Layer;
import dev.iommulab.hw.sim.TraceEvent;
import java.util.List;
import java.util.Map;

/**
 * Everything a run produced, in the shape of the JSON output of SCENARIO-FORMAT.md. Field names are the
 * public contract. {@code serviceLatenciesNs} (not in the JSON) are the simulated fault-service latencies
 * of the run: for every DMA work item that finished, its start to its end; for every raw LPIG
 * {@code page-request} step, the step to the PRG response of its group. {@code parkedAfterSteps} (not in the JSON)
 * are the partials parked after each step, what {@code parked} expectations look at.
 */
@JsonPropertyOrder({"scenario", "seed", "hardware", "kernel", "policies", "outcome", "simulatedNs", "pageResponses",
        "dma", "faultRecords", "virtioEvents", "devices", "userspace", "log", "guests", "stepErrors", "invariants",
        "expectations", "counters"})
public record RunResult(String scenario, long seed, String hardware, String kernel, Map<String, String> policies,
                        String outcome, long simulatedNs,
                        List<PageResponseEntry> pageResponses, List<DmaEntry> dma, List<FaultRecordEntry> faultRecords,
                        List<VirtioEventEntry> virtioEvents, List<DeviceEntry> devices, List<UserspaceEntry> userspace,
                        List<String> log, List<GuestEntry> guests,
                        List<StepErrorEntry> stepErrors, List<InvariantEntry> invariants,
                        List<ExpectationEntry> expectations, Map<String, Long> counters,
                        @JsonIgnore List<TraceEvent.Step> journey, @JsonIgnore List<Long> serviceLatenciesNs,
                        @JsonIgnore List<ParkedEntry> parkedAfterSteps,
                        @JsonIgnore List<FaultQueueEntry> faultQueueAfterSteps,
                        @JsonIgnore Map<Layer, Long> journeyStepsByLayer) {

    /**
     * A PRG response as the function received it, with who decided it. {@code latencyNs} (not in the JSON): the
     * simulated time from the report of its group's LPIG request to the core (iommu_report_device_fault()) to the
     * response reaching the function; null when no report preceded it (the hardware answered by itself).
     */
    public record PageResponseEntry(long atNs, String device, Integer pasid, int grpid, String code, String wireCode,
                                    String origin, @JsonIgnore Long latencyNs, String guest) {
    }

    /** One DMA work item. {@code memoryMatches} is set for SVA writes that completed. */
    public record DmaEntry(String device, Integer pasid, String addr, long size, String access, String status,
                           Long latencyNs, String faultAddr, Boolean memoryMatches, String guest) {
    }

    /**
     * A fault the IOMMU detected; {@code recorded} false when its record was lost or suppressed; {@code coalesced}
     * true when, instead of a record of its own, it was counted in a pending record of the same device and reason
     * (the invented hardware option {@code fault-quota}).
     */
    public record FaultRecordEntry(long atNs, String device, Integer pasid, String addr, String access, String reason,
                                   String vendorCode, boolean recorded, boolean coalesced, String guest) {
    }

    /**
     * PRI state of a function at the end of the run, and how many of its page requests io-pgfault still holds
     * parked on its partial list (reported non-last requests waiting for their LPIG).
     */
    public record DeviceEntry(String name, boolean priEnabled, boolean priResponseFailure, boolean uprgi,
                              int creditsInUse, int partialsParked, String guest) {
    }

    /**
     * One fault of a virtio-iommu and what became of its event: delivered ({@code delayNs} after the fault when the
     * device waited for a buffer) or dropped. {@code guest}: the guest's name, null for the host.
     *
     * @param flags the record's flags by name, e.g. {@code READ|ADDRESS}
     */
    public record VirtioEventEntry(long atNs, String guest, String device, int endpoint, String reason, String flags,
                                   String address, boolean delivered, long delayNs) {
    }

    /**
     * A guest at the end of the run: its kernel log, what the VMM printed about its virtual IOMMU (QEMU's
     * {@code error_report_once()} and {@code virtio_error()} lines), whether the virtual IOMMU needs a reset, and
     * whether the guest's driver hung waiting for a request the device never returned.
     */
    public record GuestEntry(String name, List<String> log, List<String> vmmLog, boolean deviceNeedsReset,
                             boolean hung) {
    }

    /**
     * Partials of {@code device} with {@code pasid} (null: without PASID) parked when step {@code afterStep}
     * (1-based; 0 = before the first step) was over: sampled when the next step started, or when the run ended.
     * Only non-zero counts are listed.
     */
    public record ParkedEntry(int afterStep, String device, Integer pasid, int count) {
    }

    /**
     * A step whose kernel call failed; the run goes on with the next step. {@code expected}: a {@code step-error}
     * expectation matches it, so it does not fail the run.
     */
    public record StepErrorEntry(String step, String location, String errno, String error, boolean expected) {
    }

    /**
     * The iommufd view of one process that used it: its client's mode and read buffer, the devices bound (name to
     * {@code dev_id}), every record read from its fault file and every answer written (by its client or by a step),
     * its client's statistics, and the groups its fault object still held at the end ({@code unread} on the deliver
     * list, {@code unanswered} in the response table — still owed).
     */
    public record UserspaceEntry(String process, String userResponse, int readBytes, Map<String, Integer> devices,
                                 List<PgFaultEntry> recordsRead, List<PageResponseWritten> responsesWritten,
                                 ClientStats client, int unread, int unanswered, boolean faultFileOpen,
                                 boolean iommufdClosed) {
    }

    /**
     * One {@code struct iommu_hwpt_pgfault} as read, every field: {@code read} numbers the reads of the file that
     * returned records (1-based), {@code by} is {@code client} or {@code step}.
     */
    public record PgFaultEntry(long atNs, String by, int read, int flags, int devId, int pasid, int grpid, int perm,
                               int reserved, String addr, int length, long cookie) {
    }

    /** One {@code struct iommu_hwpt_page_response} written; {@code error} is the errno when it was refused. */
    public record PageResponseWritten(long atNs, String by, long cookie, long code, String codeName, boolean accepted,
                                      String error) {
    }

    /** The client's figures ({@code UserspaceDriver.Stats}). */
    public record ClientStats(int groupsRead, int success, int invalid, int rejected, int tooSmall) {
    }

    /** Groups a process's fault object held when step {@code afterStep} (1-based; 0 = before the first) was over. */
    public record FaultQueueEntry(int afterStep, String process, int unread, int unanswered) {
    }

    public record InvariantEntry(String name, boolean holds, String detail) {
    }

    public record ExpectationEntry(String text, boolean holds, String seen) {
    }

    public boolean passed() {
        return "pass".equals(outcome);
    }
}
