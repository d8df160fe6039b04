package dev.iommulab.core.dma;

import dev.iommulab.core.Device;
import dev.iommulab.core.IommuDomain;
import dev.iommulab.core.kernel.Errno;
import dev.iommulab.core.kernel.KernelException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The live mappings of every device, checked on unmap as kernel/dma/debug.c's check_unmap() does with
 * CONFIG_DMA_API_DEBUG: an unmap of an address the device never mapped, with another size, direction or function
 * is refused (EINVAL, nothing changes) where the kernel would only warn and then unmap whatever is there.
 */
final class DmaDebug {

    /** What one dma_map_page()/dma_map_sg() produced ({@code struct dma_debug_entry}). */
    record Mapping(IommuDomain domain, long iova, long iovaSize, List<DmaSegment> segments, long size,
                   DmaDirection dir, boolean sg) {

        long dmaAddress() {
            return segments.get(0).dmaAddress();
        }
    }

    private final Map<Device, TreeMap<Long, Mapping>> live = new HashMap<>();

    void add(Device dev, Mapping m) {
        live.computeIfAbsent(dev, d -> new TreeMap<>()).put(m.dmaAddress(), m);
    }

    void remove(Device dev, Mapping m) {
        live.get(dev).remove(m.dmaAddress());
    }

    /** Live mappings of {@code dev}, by DMA address. */
    List<Mapping> of(Device dev) {
        TreeMap<Long, Mapping> m = live.get(dev);
        return m == null ? List.of() : List.copyOf(m.values());
    }

    /**
     * check_unmap() for dma_unmap_page()/dma_unmap_single().
     *
     * @throws KernelException EINVAL naming {@code addr} (never mapped, or mapped by dma_map_sg()), {@code size}
     *                         or {@code dir}
     */
    Mapping checkUnmapSingle(Device dev, long addr, long size, DmaDirection dir) {
        Mapping m = find(dev, addr, "dma_unmap_page");
        if (m.sg()) {
            throw new KernelException(Errno.EINVAL, "addr", String.format(
                    "%s frees DMA memory with wrong function [device address=%#x] [mapped as scatter-gather]",
                    dev, addr));
        }
        if (m.size() != size) {
            throw new KernelException(Errno.EINVAL, "size", String.format(
                    "%s frees DMA memory with different size [device address=%#x] [map size=%d bytes] "
                            + "[unmap size=%d bytes]", dev, addr, m.size(), size));
        }
        checkDir(dev, m, dir);
        return m;
    }

    /**
     * check_unmap() for dma_unmap_sg(): {@code segments} must be exactly what dma_map_sg() returned.
     *
     * @throws KernelException EINVAL naming {@code sg} or {@code dir}
     */
    Mapping checkUnmapSg(Device dev, List<DmaSegment> segments, DmaDirection dir) {
        if (segments == null || segments.isEmpty()) {
            throw new KernelException(Errno.EINVAL, "sg", "no segments");
        }
        Mapping m = find(dev, segments.get(0).dmaAddress(), "dma_unmap_sg");
        if (!m.sg() || !m.segments().equals(segments)) {
            throw new KernelException(Errno.EINVAL, "sg", String.format(
                    "%s frees DMA memory with wrong function or segments [device address=%#x] [mapped as %s]",
                    dev, m.dmaAddress(), m.sg() ? m.segments() : "single"));
        }
        checkDir(dev, m, dir);
        return m;
    }

    private Mapping find(Device dev, long addr, String function) {
        TreeMap<Long, Mapping> mine = live.get(dev);
        Mapping m = mine == null ? null : mine.get(addr);
        if (m == null) {
            throw new KernelException(Errno.EINVAL, "addr", String.format(
                    "%s: %s of DMA memory it has not allocated [device address=%#x]", dev, function, addr));
        }
        return m;
    }

    private static void checkDir(Device dev, Mapping m, DmaDirection dir) {
        if (m.dir() != dir) {
            throw new KernelException(Errno.EINVAL, "dir", String.format(
                    "%s frees DMA memory with different direction [device address=%#x] [mapped with %s] "
                            + "[unmapped with %s]", dev, m.dmaAddress(), m.dir(), dir));
        }
    }
}
