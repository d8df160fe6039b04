package dev.iommulab.testkit.hw.example;

import dev.iommulab.hw.iommu.AtsInvalidateRequest;
import dev.iommulab.hw.iommu.HwFault;
import dev.iommulab.hw.iommu.IommuHardware;
import dev.iommulab.hw.iommu.PageRequestMessage;
import dev.iommulab.hw.iommu.PcieFabric;
import dev.iommulab.hw.iommu.PcieFunction;
import dev.iommulab.hw.iommu.PrgResponse;
import dev.iommulab.hw.mem.PhysicalMemory;
import dev.iommulab.hw.sim.EventLoop;
import dev.iommulab.testkit.hw.ModelCapability;
import dev.iommulab.testkit.hw.ModelHarness;
import dev.iommulab.testkit.hw.Rights;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/** The software side of {@link FlatIommu} for the contract kit. */
public final class FlatIommuHarness implements ModelHarness {

    private static final int[] RIDS = {0x0008, 0x0010};

    private final EventLoop loop = new EventLoop(1);
    private final PhysicalMemory memory = new PhysicalMemory(256L << 20);
    private final List<HwFault> faults = new ArrayList<>();
    private final List<List<PrgResponse>> responses = List.of(new ArrayList<>(), new ArrayList<>());
    private final FlatIommu iommu;
    private long nextFrame = 1L << 20;

    public FlatIommuHarness() {
        PcieFabric fabric = new PcieFabric(loop, 500);
        iommu = new FlatIommu(memory, loop, fabric, faults::add);
        for (int i = 0; i < 2; i++) {
            int device = i;
            fabric.attach(new PcieFunction() {
                @Override
                public int rid() {
                    return RIDS[device];
                }

                @Override
                public void prgResponse(PrgResponse response) {
                    responses.get(device).add(response);
                }

                @Override
                public void atsInvalidate(AtsInvalidateRequest request) {
                    iommu.atsInvalidateCompletion(RIDS[device], 1 << request.itag());
                }
            });
        }
        iommu.deviceTable = frame();
        iommu.faultLog = frame();
        iommu.faultLogEntries = 4;
    }

    private long frame() {
        long f = nextFrame;
        nextFrame += 4096;
        return f;
    }

    @Override
    public EventLoop loop() {
        return loop;
    }

    @Override
    public PhysicalMemory memory() {
        return memory;
    }

    @Override
    public IommuHardware iommu() {
        return iommu;
    }

    @Override
    public Set<ModelCapability> capabilities() {
        return EnumSet.of(ModelCapability.ATS, ModelCapability.PAGE_REQUESTS, ModelCapability.FAULT_LOG,
                ModelCapability.TRANSLATION_CACHE);
    }

    @Override
    public int rid(int device) {
        return RIDS[device];
    }

    @Override
    public void attach(int device, int pasid) {
        memory.writeLong(iommu.deviceTable + 8L * (RIDS[device] & 0xff), frame() | 1);
    }

    private long leaf(int device, long iova) {
        long dte = memory.readLong(iommu.deviceTable + 8L * (RIDS[device] & 0xff)) & ~0xfffL;
        long l1At = dte + 8L * ((iova >>> 21) & 0x1ff);
        if ((memory.readLong(l1At) & 1) == 0) {
            memory.writeLong(l1At, frame() | 1);
        }
        return (memory.readLong(l1At) & ~0xfffL) + 8L * ((iova >>> 12) & 0x1ff);
    }

    @Override
    public void map(int device, int pasid, long iova, long pa, Rights rights) {
        memory.writeLong(leaf(device, iova), pa | 1 | 2 | (rights == Rights.READ_WRITE ? 4 : 0));
    }

    @Override
    public void unmap(int device, int pasid, long iova) {
        memory.writeLong(leaf(device, iova), 0);
    }

    @Override
    public void invalidate(int device, int pasid, long iova) {
        iommu.invalidateAll();
    }

    @Override
    public void breakDeviceContext(int device) {
        memory.writeLong(iommu.deviceTable + 8L * (RIDS[device] & 0xff), 0);
    }

    @Override
    public List<HwFault> faults() {
        return List.copyOf(faults);
    }

    @Override
    public int faultLogCapacity() {
        return iommu.faultLogEntries - 1;
    }

    @Override
    public void acknowledgeFaults() {
        iommu.faultHead = iommu.faultTail;
        iommu.faultOverflow = false;
    }

    @Override
    public int enablePageRequests(int device, int pasid) {
        iommu.prq = frame();
        iommu.prqEntries = 8;
        return iommu.prqEntries - 1;
    }

    @Override
    public List<PageRequestMessage> drainPageRequests() {
        List<PageRequestMessage> out = new ArrayList<>();
        while (iommu.prqHead != iommu.prqTail) {
            long at = iommu.prq + 16L * iommu.prqHead;
            long qw0 = memory.readLong(at);
            out.add(new PageRequestMessage((int) (qw0 & 0xffff), false, 0, false, false, (qw0 & (1L << 33)) != 0,
                    (qw0 & (1L << 34)) != 0, (qw0 & (1L << 32)) != 0, (int) ((qw0 >>> 16) & 0x1ff),
                    memory.readLong(at + 8)));
            iommu.prqHead = (iommu.prqHead + 1) % iommu.prqEntries;
        }
        return out;
    }

    @Override
    public List<PrgResponse> prgResponses(int device) {
        return List.copyOf(responses.get(device));
    }
}
