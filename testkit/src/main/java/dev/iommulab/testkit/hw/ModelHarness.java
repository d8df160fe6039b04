package dev.iommulab.testkit.hw;

import dev.iommulab.hw.iommu.HwFault;
import dev.iommulab.hw.iommu.IommuHardware;
import dev.iommulab.hw.iommu.PageRequestMessage;
import dev.iommulab.hw.iommu.PrgResponse;
import dev.iommulab.hw.mem.PhysicalMemory;
import dev.iommulab.hw.sim.EventLoop;
import java.util.List;
import java.util.Set;

/**
 * What the contract kit needs from an IOMMU model under test: the model itself, and a piece of software
 * that programs it the way that model is programmed (its tables in memory, its registers, its queues).
 * One harness is one fresh machine with two devices (index 0 and 1) behind the IOMMU.
 *
 * <p>Every method that changes tables writes memory only, as a driver would; nothing here may reach
 * into the model's private state, so the kit sees the model exactly as software does.
 */
public interface ModelHarness {

    EventLoop loop();

    PhysicalMemory memory();

    /** The model, as devices see it. */
    IommuHardware iommu();

    Set<ModelCapability> capabilities();

    /** Requester ID of device {@code device} (0 or 1). */
    int rid(int device);

    /** Gives (device, pasid) an empty translation context; {@code pasid} -1 means requests without PASID. */
    void attach(int device, int pasid);

    /** Maps the 4 KiB page at {@code iova} to {@code pa} with {@code rights} (user access). */
    void map(int device, int pasid, long iova, long pa, Rights rights);

    /** Removes the mapping from the tables, without any invalidation. */
    void unmap(int device, int pasid, long iova);

    /** Runs the model's invalidation of the page for (device, pasid) to completion. */
    void invalidate(int device, int pasid, long iova);

    /** Makes the device's context (device table entry) not present. */
    void breakDeviceContext(int device);

    /** Every fault the model detected so far, recorded or not, in order. */
    List<HwFault> faults();

    /** Number of fault records the log holds before it overflows (for {@link ModelCapability#FAULT_LOG}). */
    int faultLogCapacity();

    /** Software reads and releases every fault record and clears the overflow condition. */
    void acknowledgeFaults();

    /**
     * Lets {@code device} send page requests for {@code pasid} and gives the model a page request queue;
     * returns how many requests the queue holds before it is full.
     */
    int enablePageRequests(int device, int pasid);

    /** Software reads (and consumes) every queued page request. */
    List<PageRequestMessage> drainPageRequests();

    /** PRG responses that reached {@code device} so far. */
    List<PrgResponse> prgResponses(int device);
}
