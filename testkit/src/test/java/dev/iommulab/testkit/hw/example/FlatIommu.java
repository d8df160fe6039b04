package dev.iommulab.testkit.hw.example;

import dev.iommulab.hw.iommu.AtsCompletion;
import dev.iommulab.hw.iommu.AtsTranslationRequest;
import dev.iommulab.hw.iommu.CompletionStatus;
import dev.iommulab.hw.iommu.DmaCompletion;
import dev.iommulab.hw.iommu.DmaRequest;
import dev.iommulab.hw.iommu.HwFault;
import dev.iommulab.hw.iommu.HwFaultObserver;
import dev.iommulab.hw.iommu.HwFaultReason;
import dev.iommulab.hw.iommu.IommuHardware;
import dev.iommulab.hw.iommu.PageRequestMessage;
import dev.iommulab.hw.iommu.PcieFabric;
import dev.iommulab.hw.iommu.PrgResponse;
import dev.iommulab.hw.iommu.PrgResponseCode;
import dev.iommulab.hw.mem.PhysicalMemory;
import dev.iommulab.hw.pgtable.Access;
import dev.iommulab.hw.sim.EventLoop;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A minimal third-party IOMMU model, written only against the hardware SPI, to show what it takes to
 * plug a new design into the lab (docs/hardware-models.md). It is deliberately simple:
 * <ul>
 *   <li>a device table of 256 entries of 8 bytes indexed by devfn (bus 0 only): V (bit 0) and the
 *   address of a two-level table (bits 51:12);</li>
 *   <li>two-level tables of 512 8-byte entries each, covering 1 GiB of IOVA: V (bit 0), R (bit 1),
 *   W (bit 2) and the address (bits 51:12);</li>
 *   <li>a fault log ring of 16-byte records that stops logging once it overflowed, until software
 *   clears the overflow flag;</li>
 *   <li>a page request ring that answers Success for an LPIG request it cannot queue;</li>
 *   <li>a 16-entry translation cache, emptied by {@link #invalidateAll()}.</li>
 * </ul>
 * No PASID support. Never throws on bad table contents: a bad entry is a fault.
 */
public final class FlatIommu implements IommuHardware {

    /** Registers of this model. */
    public long deviceTable;
    public long faultLog;
    public int faultLogEntries;
    public int faultTail;
    public int faultHead;
    public boolean faultOverflow;
    public long prq;
    public int prqEntries;
    public int prqTail;
    public int prqHead;

    private final PhysicalMemory memory;
    private final EventLoop loop;
    private final PcieFabric fabric;
    private final HwFaultObserver observer;
    private final Map<Long, Long> cache = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Long, Long> eldest) {
            return size() > 16;
        }
    };

    public FlatIommu(PhysicalMemory memory, EventLoop loop, PcieFabric fabric, HwFaultObserver observer) {
        this.memory = memory;
        this.loop = loop;
        this.fabric = fabric;
        this.observer = observer;
    }

    /** The invalidation command: drops every cached translation. */
    public void invalidateAll() {
        cache.clear();
    }

    /** The leaf entry for (rid, iova), 0 when not valid, or -1 when the device entry is not valid. */
    private long lookup(int rid, long iova) {
        long key = (long) rid << 48 | (iova >>> 12);
        Long cached = cache.get(key);
        if (cached != null) {
            return cached;
        }
        long dte = read(deviceTable + 8L * (rid & 0xff));
        if ((dte & 1) == 0 || (rid >>> 8) != 0) {
            return -1;
        }
        long l1 = read((dte & ADDR) + 8L * ((iova >>> 21) & 0x1ff));
        long pte = (l1 & 1) == 0 || iova >= (1L << 30) ? 0 : read((l1 & ADDR) + 8L * ((iova >>> 12) & 0x1ff));
        if ((pte & 1) != 0) {
            cache.put(key, pte);
        }
        return pte;
    }

    private static final long ADDR = 0x000f_ffff_ffff_f000L;

    private long read(long pa) {
        return memory.contains(pa, 8) ? memory.readLong(pa) : 0;
    }

    @Override
    public AtsCompletion translationRequest(AtsTranslationRequest request) {
        long pte = lookup(request.rid(), request.addr());
        if (pte < 0) {
            return AtsCompletion.error(CompletionStatus.UR);
        }
        if ((pte & 1) == 0) {
            return AtsCompletion.notAccessible();
        }
        return new AtsCompletion(CompletionStatus.SUCCESS, pte & ADDR, 4096, (pte & 2) != 0,
                (pte & 4) != 0 && !request.noWrite(), false, false);
    }

    @Override
    public DmaCompletion memoryRequest(DmaRequest request) {
        long pte = lookup(request.rid(), request.addr());
        boolean write = request.access() == Access.WRITE;
        HwFaultReason reason = pte < 0 ? HwFaultReason.DEVICE_CTX_NOT_PRESENT
                : (pte & 1) == 0 ? HwFaultReason.TRANSLATION_NOT_PRESENT
                : write && (pte & 4) == 0 ? HwFaultReason.PERMISSION_WRITE
                : !write && (pte & 2) == 0 ? HwFaultReason.PERMISSION_READ : null;
        if (reason != null) {
            fault(request, reason);
            return DmaCompletion.failed(CompletionStatus.UR);
        }
        return DmaCompletion.perform(memory, (pte & ADDR) | (request.addr() & 0xfff), request);
    }

    private void fault(DmaRequest request, HwFaultReason reason) {
        boolean recorded = !faultOverflow && (faultTail + 1) % faultLogEntries != faultHead;
        if (recorded) {
            long at = faultLog + 16L * faultTail;
            memory.writeLong(at, request.rid() | (long) reason.ordinal() << 16
                    | (request.access() == Access.WRITE ? 1L << 24 : 0));
            memory.writeLong(at + 8, request.addr());
            faultTail = (faultTail + 1) % faultLogEntries;
        } else {
            faultOverflow = true;
        }
        observer.faultDetected(new HwFault(loop.now(), request.rid(), -1, request.addr(), request.access(), reason,
                reason.ordinal(), recorded));
    }

    @Override
    public void pageRequest(PageRequestMessage m) {
        if ((prqTail + 1) % prqEntries == prqHead) {
            if (m.last() && !m.isStopMarker()) {
                fabric.sendPrgResponse(new PrgResponse(m.rid(), false, 0, m.prgi(), PrgResponseCode.SUCCESS.wire()));
            }
            return;
        }
        long at = prq + 16L * prqTail;
        memory.writeLong(at, m.rid() | (long) m.prgi() << 16 | (m.last() ? 1L << 32 : 0) | (m.read() ? 1L << 33 : 0)
                | (m.write() ? 1L << 34 : 0));
        memory.writeLong(at + 8, m.pageAddr());
        prqTail = (prqTail + 1) % prqEntries;
    }
}
