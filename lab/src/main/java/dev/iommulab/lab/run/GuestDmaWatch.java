package dev.iommulab.lab.run;

import dev.iommulab.core.Device;
import dev.iommulab.core.DomainType;
import dev.iommulab.drivers.virtio.ViommuDriver;
import dev.iommulab.core.IommuDomain;
import dev.iommulab.core.IommuMap;
import dev.iommulab.hw.pci.MemoryAccess;
import dev.iommulab.lab.machine.Machine;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * The invariant {@code guest-dma-within-mappings} of a guest behind a virtio-iommu: every access of a guest device
 * the virtual IOMMU let through reached what the guest kernel mapped for it, judged at the instant of the access
 * against the guest's own view (the virtio-iommu driver's tree of mappings, iommu_iova_to_phys()): a device in a
 * paging domain reaches the guest-physical frame its IOVA maps to; a device in the identity domain, or one the guest
 * kernel does not know is behind the IOMMU (and so hands guest-physical addresses), reaches its own address. An
 * IOVA the guest no longer maps but whose UNMAP the guest driver has queued and not yet seen answered (the DMA API's
 * flush queue holds it back) may still be translated: such an access is counted, not judged.
 */
final class GuestDmaWatch {

    private static final long PAGE_MASK = ~0xfffL;

    private final Machine machine;
    private final Supplier<String> step;
    final List<String> violations = new ArrayList<>();
    long judged;
    long inFlushQueue;

    GuestDmaWatch(Machine machine, Supplier<String> step) {
        this.machine = machine;
        this.step = step;
        machine.endpoints().forEach((name, ep) -> ep.addMemoryAccessListener(a -> onAccess(name, a)));
    }

    void onAccess(String device, MemoryAccess a) {
        Device dev = machine.device(device);
        IommuDomain domain = dev == null || dev.group() == null ? null : dev.group().domain();
        long expected;
        if (dev == null || domain != null && domain.type() == DomainType.IDENTITY) {
            expected = a.va();
        } else if (domain == null) {
            expected = -1;
        } else {
            long phys = IommuMap.iovaToPhys(domain, a.va() & PAGE_MASK);
            if (phys == 0 && machine.ops() instanceof ViommuDriver driver && driver.unmapPending(domain, a.va())) {
                inFlushQueue++;
                return;
            }
            expected = phys == 0 ? -1 : phys | (a.va() & ~PAGE_MASK);
        }
        judged++;
        if (expected != a.pa()) {
            violations.add(String.format("%s %s iova %#x+%d -> gpa %#x: the guest %s (step %s)", device,
                    a.access().name().toLowerCase(Locale.ROOT), a.va(), a.length(), a.pa(),
                    expected < 0 ? "maps nothing there" : String.format("maps it to %#x", expected), step.get()));
        }
    }
}
