package dev.iommulab.drivers.riscv;

import dev.iommulab.core.Device;
import dev.iommulab.core.IommuCore;
import dev.iommulab.core.IommuDomain;
import dev.iommulab.core.IommuOps;
import dev.iommulab.core.mm.CpuPageTable;
import dev.iommulab.core.mm.MmStruct;
import dev.iommulab.drivers.DriverServices;
import dev.iommulab.drivers.StackHarness;
import dev.iommulab.fixtures.drivers.DriverFeature;
import dev.iommulab.fixtures.drivers.Invalidation;
import dev.iommulab.fixtures.drivers.SentPageResponse;
import dev.iommulab.fixtures.drivers.TranslationEntry;
import dev.iommulab.hw.iommu.HwFaultReason;
import dev.iommulab.hw.iommu.IommuHardware;
import dev.iommulab.hw.iommu.PageRequestMessage;
import dev.iommulab.hw.riscv.RiscvCommand;
import dev.iommulab.hw.riscv.RiscvConfig;
import dev.iommulab.hw.riscv.RiscvDeviceContext;
import dev.iommulab.hw.riscv.RiscvIommu;
import dev.iommulab.hw.riscv.RiscvPageRequestRecord;
import dev.iommulab.hw.riscv.RiscvProcessContext;
import dev.iommulab.hw.riscv.RiscvRegs;
import dev.iommulab.iopf.IopfQueue;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * The lab's RISC-V IOMMU driver, for the {@link dev.iommulab.fixtures.drivers.IommuOpsContract}: the machine wired by
 * hand as {@link RiscvIommuFixture} wires it, and the contract's observations read from what the IOMMU sees — device
 * and process contexts walked from {@code ddtp}, the command queue from {@code cqb}, the page-request queue from
 * {@code pqb}.
 */
final class RiscvDriverHarness extends StackHarness {

    private final RiscvIommu hw = new RiscvIommu(RiscvConfig.defaults("riscv-iommu0"), memory, loop, timing, fabric,
            hwFaults::add);
    private final RiscvIommuDriver driver = new RiscvIommuDriver(hw, RiscvIommuDriver.QueueSizes.DEFAULTS,
            DriverServices.withDefaultPolicies(frames, iopf, loop, timing, log, events));

    @Override protected IommuHardware hardware() { return hw; }
    @Override protected IopfQueue iopfQueue() { return driver.iopfQueue(); }
    @Override public IommuOps ops() { return driver; }

    @Override
    public Set<DriverFeature> features() {
        return EnumSet.noneOf(DriverFeature.class);
    }

    @Override
    public MmStruct mmAlloc(String name) {
        return new MmStruct(name, frames, frames.allocate(), CpuPageTable.riscvSv48(memory));
    }

    // ---- the IOMMU ----

    /**
     * The process context of {@code pasid} for a function with a process directory (PASID 0 through DPE for requests
     * without PASID), else its device context.
     */
    @Override
    public TranslationEntry entry(Device dev, int pasid) {
        long dcAt = contextAddress(dev.rid());
        if (dcAt < 0) {
            return TranslationEntry.ABSENT;
        }
        RiscvDeviceContext dc = RiscvDeviceContext.readFrom(memory, dcAt);
        if (dc.has(RiscvDeviceContext.TC_V) && dc.has(RiscvDeviceContext.TC_PDTV)) {
            long pcAt = processContextAddress(dc, pasid);
            if (pcAt < 0) {
                return TranslationEntry.ABSENT;
            }
            RiscvProcessContext pc = RiscvProcessContext.readFrom(memory, pcAt);
            return decode(pc.has(RiscvProcessContext.TA_V), pc.ta(), pc.fsc(), pc.fscRoot(), pc.pscid());
        }
        if (pasid != IommuCore.IOMMU_NO_PASID) {
            return TranslationEntry.ABSENT;
        }
        return decode(dc.has(RiscvDeviceContext.TC_V), dc.ta() | dc.iohgatp(), dc.fsc(), dc.fscRoot(), dc.pscid());
    }

    private static TranslationEntry decode(boolean valid, long ta, long fsc, long root, int pscid) {
        if (!valid) {
            return ta == 0 && fsc == 0 ? TranslationEntry.ABSENT
                    : new TranslationEntry(TranslationEntry.Kind.NOT_VALID, 0, 0);
        }
        if (fsc == 0) {
            return new TranslationEntry(TranslationEntry.Kind.PASS_THROUGH, 0, pscid);
        }
        return new TranslationEntry(TranslationEntry.Kind.FIRST_STAGE, root, pscid);
    }

    /** The device context of {@code devid} through the 3-level DDT, or -1 when a level is not valid. */
    private long contextAddress(int devid) {
        long table = RiscvRegs.ppnAddress(hw.readReg(RiscvRegs.DDTP));
        table = nonLeaf(table + 8L * (devid >>> 16 & 0xff));
        table = table < 0 ? -1 : nonLeaf(table + 8L * (devid >>> 7 & 0x1ff));
        return table < 0 ? -1 : table + (long) RiscvDeviceContext.SIZE * (devid & 0x7f);
    }

    /** The process context of {@code pasid} through the DC's PDT, or -1 when a level is not valid. */
    private long processContextAddress(RiscvDeviceContext dc, int pasid) {
        long table = dc.fscRoot();
        int[] shift = {0, 8, 17};
        for (int level = dc.fscMode() - 1; level > 0 && table >= 0; level--) {
            table = nonLeaf(table + 8L * (pasid >>> shift[level] & 0x1ff));
        }
        return table < 0 ? -1 : table + (long) RiscvProcessContext.SIZE * (pasid & 0xff);
    }

    private long nonLeaf(long entryAddr) {
        long entry = memory.readLong(entryAddr);
        return (entry & RiscvDeviceContext.NON_LEAF_V) == 0 ? -1 : RiscvRegs.ppnAddress(entry);
    }

    /** The PSCID of a paging or SVA domain; the identity domain has none. */
    @Override
    public int domainTag(IommuDomain domain) {
        if (domain.ops() instanceof RiscvPagingDomain paging) {
            return paging.pscid();
        }
        return domain.ops() instanceof RiscvSvaDomain sva ? sva.pscid() : 0;
    }

    /** A function without a process directory has its device context not valid; one with it, process context 0. */
    @Override
    public HwFaultReason blockedReason(Device dev) {
        return dev.maxPasids() > 0 ? HwFaultReason.PASID_ENTRY_NOT_PRESENT : HwFaultReason.DEVICE_CTX_NOT_PRESENT;
    }

    @Override
    public long invalidationMark() {
        return hw.readReg(RiscvRegs.CQT);
    }

    @Override
    public List<Invalidation> invalidationsSince(long mark) {
        List<Invalidation> found = new ArrayList<>();
        for (RiscvCommand c : commands(mark)) {
            Invalidation inv = RiscvInvalidations.decode(c);
            if (inv != null) {
                found.add(inv);
            }
        }
        return found;
    }

    @Override
    public List<SentPageResponse> pageResponsesSent() {
        return commands(0).stream()
                .filter(c -> c.opcode() == RiscvCommand.OPCODE_ATS && c.func3() == RiscvCommand.FUNC3_ATS_PRGR)
                .map(c -> new SentPageResponse((int) (c.qw0() >>> 40 & 0xffff), (c.qw0() >>> 32 & 1) != 0,
                        (int) (c.qw0() >>> 12 & 0xfffff), (int) (c.qw1() >>> 32 & 0x1ff), (int) (c.qw1() >>> 44 & 0xf),
                        true))
                .toList();
    }

    @Override
    public List<PageRequestMessage> pageRequestsQueued() {
        long base = RiscvRegs.ppnAddress(hw.readReg(RiscvRegs.PQB));
        List<PageRequestMessage> found = new ArrayList<>();
        for (long i = 0; i < hw.readReg(RiscvRegs.PQT); i++) {
            found.add(RiscvPageRequestRecord.readFrom(memory, base + i * RiscvRegs.PQ_ENTRY_SIZE).toMessage());
        }
        return found;
    }

    @Override
    public int pageRequestsUnconsumed() {
        long entries = 1L << ((hw.readReg(RiscvRegs.PQB) & RiscvRegs.QB_LOG2SZ_MASK) + 1);
        return (int) Math.floorMod(hw.readReg(RiscvRegs.PQT) - hw.readReg(RiscvRegs.PQH), entries);
    }

    /** The RISC-V IOMMU has no page-request drain command. */
    @Override
    public int pageRequestDrains() {
        return 0;
    }

    /** The commands from slot {@code mark} to {@code cqt} (the ring is assumed not to wrap). */
    private List<RiscvCommand> commands(long mark) {
        long base = RiscvRegs.ppnAddress(hw.readReg(RiscvRegs.CQB));
        List<RiscvCommand> found = new ArrayList<>();
        for (long i = mark; i < hw.readReg(RiscvRegs.CQT); i++) {
            found.add(RiscvCommand.readFrom(memory, base + i * RiscvRegs.CQ_ENTRY_SIZE));
        }
        return found;
    }
}
