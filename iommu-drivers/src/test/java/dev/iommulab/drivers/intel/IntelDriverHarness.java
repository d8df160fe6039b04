package dev.iommulab.drivers.intel;

import dev.iommulab.core.Device;
import dev.iommulab.core.IommuDomain;
import dev.iommulab.core.IommuOps;
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
import dev.iommulab.hw.vtd.PageRequestDescriptor;
import dev.iommulab.hw.vtd.QiDescriptor;
import dev.iommulab.hw.vtd.VtdConfig;
import dev.iommulab.hw.vtd.VtdEntries;
import dev.iommulab.hw.vtd.VtdRegs;
import dev.iommulab.hw.vtd.VtdUnit;
import dev.iommulab.iopf.IopfQueue;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * The VT-d driver on a scalable-mode unit, for the {@link dev.iommulab.fixtures.drivers.IommuOpsContract}: the
 * machine wired by hand as {@link IntelIommuFixture} wires it, and the contract's observations read from what the
 * unit sees — PASID entries walked from RTADDR, the invalidation queue from IQA, the page request queue from PQA.
 */
final class IntelDriverHarness extends StackHarness {

    private final VtdUnit unit = new VtdUnit(VtdConfig.defaults("dmar0"), memory, loop, timing, fabric, hwFaults::add);
    private final IntelIommu intel = new IntelIommu("dmar0", unit,
            DriverServices.withDefaultPolicies(frames, iopf, loop, timing, log, events));

    @Override protected IommuHardware hardware() { return unit; }
    @Override protected IopfQueue iopfQueue() { return intel.iopfQueue(); }
    @Override public IommuOps ops() { return intel; }

    @Override
    public Set<DriverFeature> features() {
        return EnumSet.of(DriverFeature.NESTED_DOMAINS, DriverFeature.PAGE_REQUEST_DRAIN);
    }

    @Override
    public MmStruct mmAlloc(String name) {
        return new MmStruct(name, frames, frames.allocate());
    }

    // ---- the unit ----

    /** The PASID entry (the RID_PASID entry for PASID 0), walked root → context → PASID directory → table. */
    @Override
    public TranslationEntry entry(Device dev, int pasid) {
        long[] pe = pasidEntry(dev.rid(), pasid);
        if (java.util.Arrays.stream(pe).allMatch(q -> q == 0)) {
            return TranslationEntry.ABSENT;
        }
        int did = (int) (pe[1] & VtdEntries.PE_DID_MASK);
        if ((pe[0] & VtdEntries.PRESENT) == 0) {
            return new TranslationEntry(TranslationEntry.Kind.NOT_VALID, 0, 0);
        }
        return switch ((int) ((pe[0] & VtdEntries.PE_PGTT_MASK) >>> VtdEntries.PE_PGTT_SHIFT)) {
            case VtdEntries.PGTT_FIRST_STAGE -> new TranslationEntry(TranslationEntry.Kind.FIRST_STAGE,
                    pe[2] & VtdEntries.ADDR_MASK, did);
            case VtdEntries.PGTT_SECOND_STAGE -> new TranslationEntry(TranslationEntry.Kind.SECOND_STAGE,
                    pe[0] & VtdEntries.ADDR_MASK, did);
            case VtdEntries.PGTT_NESTED -> new TranslationEntry(TranslationEntry.Kind.NESTED,
                    pe[2] & VtdEntries.ADDR_MASK, did);
            case VtdEntries.PGTT_PASS_THROUGH -> new TranslationEntry(TranslationEntry.Kind.PASS_THROUGH, 0, did);
            default -> new TranslationEntry(TranslationEntry.Kind.NOT_VALID, 0, did);
        };
    }

    /** The eight qwords of the PASID entry, zeros when a level of the walk is not present. */
    private long[] pasidEntry(int rid, int pasid) {
        long[] qw = new long[8];
        long rootTable = unit.readReg(VtdRegs.RTADDR) & VtdEntries.ADDR_MASK;
        int devfn = rid & 0xff;
        long root = memory.readLong(rootTable + (long) (rid >>> 8) * VtdEntries.ROOT_ENTRY_SIZE
                + (devfn >= 0x80 ? 8 : 0));
        if ((root & VtdEntries.PRESENT) == 0) {
            return qw;
        }
        long ctx = (root & VtdEntries.ADDR_MASK) + (long) (devfn & 0x7f) * VtdEntries.SM_CONTEXT_ENTRY_SIZE;
        long dir = memory.readLong(ctx) & VtdEntries.ADDR_MASK;
        long pde = dir == 0 ? 0 : memory.readLong(dir + (long) (pasid >>> 6) * VtdEntries.PASID_DIR_ENTRY_SIZE);
        if ((pde & VtdEntries.PRESENT) != 0) {
            long pe = (pde & VtdEntries.ADDR_MASK) + (long) (pasid & 0x3f) * VtdEntries.PASID_ENTRY_SIZE;
            for (int i = 0; i < qw.length; i++) {
                qw[i] = memory.readLong(pe + 8L * i);
            }
        }
        return qw;
    }

    @Override
    public int domainTag(IommuDomain domain) {
        return ((IntelDomain) domain.ops()).did();
    }

    /** Without PASID a function uses RID_PASID, whose entry (or directory entry) is not present. */
    @Override
    public HwFaultReason blockedReason(Device dev) {
        return HwFaultReason.PASID_ENTRY_NOT_PRESENT;
    }

    @Override
    public long invalidationMark() {
        return unit.readReg(VtdRegs.IQT);
    }

    @Override
    public List<Invalidation> invalidationsSince(long mark) {
        List<Invalidation> found = new ArrayList<>();
        for (QiDescriptor d : queued(mark)) {
            Invalidation inv = VtdInvalidations.decode(d);
            if (inv != null) {
                found.add(inv);
            }
        }
        return found;
    }

    @Override
    public List<SentPageResponse> pageResponsesSent() {
        List<SentPageResponse> found = new ArrayList<>();
        for (QiDescriptor d : queued(0)) {
            if (d.type() == QiDescriptor.TYPE_PAGE_GROUP_RESPONSE) {
                found.add(new SentPageResponse((int) (d.qw0() >>> 16 & 0xffff), (d.qw0() & 1L << 4) != 0,
                        (int) (d.qw0() >>> 32 & 0xfffff), (int) (d.qw1() >>> 3 & 0x1ff), (int) (d.qw0() >>> 12 & 0xf),
                        (d.qw1() & 1L << 2) != 0));
            }
        }
        return found;
    }

    @Override
    public List<PageRequestMessage> pageRequestsQueued() {
        long ring = unit.readReg(VtdRegs.PQA) & VtdEntries.ADDR_MASK;
        List<PageRequestMessage> found = new ArrayList<>();
        for (long at = 0; at < unit.readReg(VtdRegs.PQT); at += VtdRegs.DESC_SIZE) {
            found.add(PageRequestDescriptor.readFrom(memory, ring + at).toMessage());
        }
        return found;
    }

    @Override
    public int pageRequestsUnconsumed() {
        long ringBytes = 4096L << (unit.readReg(VtdRegs.PQA) & 0x7);
        long pending = Math.floorMod(unit.readReg(VtdRegs.PQT) - unit.readReg(VtdRegs.PQH), ringBytes);
        return (int) (pending / VtdRegs.DESC_SIZE);
    }

    /** Invalidation wait descriptors with Page-request Drain, the §7.10 drain. */
    @Override
    public int pageRequestDrains() {
        return (int) queued(0).stream()
                .filter(d -> d.type() == QiDescriptor.TYPE_WAIT && (d.qw0() & QiDescriptor.IWD_PRQ_DRAIN) != 0).count();
    }

    /** The descriptors from byte offset {@code mark} to IQT (the ring is assumed not to wrap). */
    private List<QiDescriptor> queued(long mark) {
        long base = unit.readReg(VtdRegs.IQA) & VtdEntries.ADDR_MASK;
        List<QiDescriptor> found = new ArrayList<>();
        for (long at = mark; at < unit.readReg(VtdRegs.IQT); at += VtdRegs.DESC_SIZE) {
            found.add(new QiDescriptor(memory.readLong(base + at), memory.readLong(base + at + 8),
                    memory.readLong(base + at + 16), memory.readLong(base + at + 24)));
        }
        return found;
    }
}
