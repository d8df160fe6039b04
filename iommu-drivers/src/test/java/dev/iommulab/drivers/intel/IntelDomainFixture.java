package dev.iommulab.drivers.intel;

import dev.iommulab.core.Device;
import dev.iommulab.core.IommuCore;
import dev.iommulab.core.IommuDomain;
import dev.iommulab.core.fault.FaultEvents;
import dev.iommulab.core.kernel.FailureInjector;
import dev.iommulab.core.kernel.FrameAllocator;
import dev.iommulab.core.kernel.KernelLog;
import dev.iommulab.drivers.DriverServices;
import dev.iommulab.hw.iommu.HwFault;
import dev.iommulab.hw.iommu.PcieFabric;
import dev.iommulab.hw.mem.PhysicalMemory;
import dev.iommulab.hw.pci.DeviceProfile;
import dev.iommulab.hw.pci.DmaJob;
import dev.iommulab.hw.pci.DmaOutcome;
import dev.iommulab.hw.pci.EndpointConfig;
import dev.iommulab.hw.pci.PcieEndpoint;
import dev.iommulab.hw.pgtable.Access;
import dev.iommulab.hw.sim.EventLoop;
import dev.iommulab.hw.sim.TimingModel;
import dev.iommulab.hw.vtd.QiDescriptor;
import dev.iommulab.hw.vtd.VtdConfig;
import dev.iommulab.hw.vtd.VtdEntries;
import dev.iommulab.hw.vtd.VtdRegs;
import dev.iommulab.hw.vtd.VtdUnit;
import dev.iommulab.iopf.Iopf;
import dev.iommulab.iopf.IopfPolicies;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One VT-d unit with its driver and core (default domain type BLOCKED, as the lab runs) and two functions: a
 * NIC without ATS or PASID ({@link #nic}, 04:00.0) and an accelerator with ATS and 8 PASID bits but no PRI
 * ({@link #acc}, 05:00.0). Helpers run DMA through the hardware model, read PASID entries from memory and the
 * descriptors the driver queued.
 */
final class IntelDomainFixture {

    /** The DID the driver gave {@code domain} (its {@link IntelDomain}), as its PASID entries carry it. */
    static int domainId(IommuDomain domain) {
        return ((IntelDomain) domain.ops()).did();
    }

    static final int NIC_RID = 0x0400;
    static final int ACC_RID = 0x0500;
    static final long MEMORY_BYTES = 256L << 20;

    final EventLoop loop = new EventLoop(7);
    final TimingModel timing = TimingModel.ESTIMATES;
    final PhysicalMemory memory = new PhysicalMemory(MEMORY_BYTES);
    final PcieFabric fabric = new PcieFabric(loop, timing.pcieTlpNs());
    final List<HwFault> hwFaults = new ArrayList<>();
    final VtdUnit unit = new VtdUnit(VtdConfig.defaults("dmar0"), memory, loop, timing, fabric, hwFaults::add);
    final FailureInjector failures = new FailureInjector();
    final FrameAllocator frames = new FrameAllocator(memory, 1L << 20, failures);
    final KernelLog log = new KernelLog(loop);
    final FaultEvents events = new FaultEvents();
    final IommuCore core = new IommuCore();
    final Iopf iopf = new Iopf(core, loop, timing, events, failures, log, IopfPolicies.kernel(failures));
    final IntelIommu intel = new IntelIommu("dmar0", unit,
            DriverServices.withDefaultPolicies(frames, iopf, loop, timing, log, events));
    final PcieEndpoint nicEp = endpoint("nic0", NIC_RID, false, 0);
    final PcieEndpoint accEp = endpoint("acc0", ACC_RID, true, 8);
    final Device nic = core.probeDevice(nicEp, intel);
    final Device acc = core.probeDevice(accEp, intel);

    private PcieEndpoint endpoint(String name, int rid, boolean ats, int pasidBits) {
        PcieEndpoint ep = new PcieEndpoint(new EndpointConfig(name, rid, DeviceProfile.ACCELERATOR, ats, false,
                pasidBits, 1, ats ? 16 : 0, 4), loop, timing);
        ep.connect(unit);
        fabric.attach(ep);
        return ep;
    }

    /** A data page at a fixed physical address, filled with {@code fill}. */
    long dataPage(long pa, int fill) {
        byte[] bytes = new byte[4096];
        Arrays.fill(bytes, (byte) fill);
        memory.write(pa, bytes);
        return pa;
    }

    /** Runs one DMA of {@code size} bytes at {@code addr} (PASID {@code pasid}, -1 for the RID) to its end. */
    DmaOutcome dma(PcieEndpoint ep, long addr, int size, Access access, int pasid) {
        byte[] data = access == Access.WRITE ? new byte[size] : null;
        DmaOutcome[] out = new DmaOutcome[1];
        ep.startDma(new DmaJob(addr, size, access, pasid, false, data), o -> out[0] = o);
        loop.runUntilIdle();
        return out[0];
    }

    DmaOutcome read(PcieEndpoint ep, long addr) {
        return dma(ep, addr, 64, Access.READ, -1);
    }

    /** The eight qwords of the PASID entry of {@code pasid} of the function {@code rid} (zeros when absent). */
    long[] pasidEntry(int rid, int pasid) {
        long rootTable = unit.readReg(VtdRegs.RTADDR) & VtdEntries.ADDR_MASK;
        int devfn = rid & 0xff;
        long root = memory.readLong(rootTable + (long) (rid >>> 8) * VtdEntries.ROOT_ENTRY_SIZE
                + (devfn >= 0x80 ? 8 : 0));
        long ctx = (root & VtdEntries.ADDR_MASK) + (long) (devfn & 0x7f) * VtdEntries.SM_CONTEXT_ENTRY_SIZE;
        long dir = memory.readLong(ctx) & VtdEntries.ADDR_MASK;
        long pde = memory.readLong(dir + (long) (pasid >>> 6) * VtdEntries.PASID_DIR_ENTRY_SIZE);
        long[] qw = new long[8];
        if ((pde & VtdEntries.PRESENT) != 0) {
            long pe = (pde & VtdEntries.ADDR_MASK) + (long) (pasid & 0x3f) * VtdEntries.PASID_ENTRY_SIZE;
            for (int i = 0; i < qw.length; i++) {
                qw[i] = memory.readLong(pe + 8L * i);
            }
        }
        return qw;
    }

    static int pgtt(long[] pe) {
        return (int) ((pe[0] & VtdEntries.PE_PGTT_MASK) >>> VtdEntries.PE_PGTT_SHIFT);
    }

    static int did(long[] pe) {
        return (int) (pe[1] & VtdEntries.PE_DID_MASK);
    }

    /** Where the driver's next descriptor will go (IQT), to read what it queues after this point. */
    long qiMark() {
        return unit.readReg(VtdRegs.IQT);
    }

    /** The descriptors queued since {@code mark}, waits left out (the ring is assumed not to wrap). */
    List<QiDescriptor> qiSince(long mark) {
        long base = unit.readReg(VtdRegs.IQA) & VtdEntries.ADDR_MASK;
        long tail = unit.readReg(VtdRegs.IQT);
        List<QiDescriptor> found = new ArrayList<>();
        for (long at = mark; at < tail; at += VtdRegs.DESC_SIZE) {
            QiDescriptor d = new QiDescriptor(memory.readLong(base + at), memory.readLong(base + at + 8),
                    memory.readLong(base + at + 16), memory.readLong(base + at + 24));
            if (d.type() != QiDescriptor.TYPE_WAIT) {
                found.add(d);
            }
        }
        return found;
    }
}
