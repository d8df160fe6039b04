package dev.iommulab.vfio;

import dev.iommulab.core.IommuDomain;
import dev.iommulab.core.IommuMap;
import dev.iommulab.core.kernel.Errno;
import dev.iommulab.core.kernel.KernelException;
import dev.iommulab.core.mm.MmStruct;
import dev.iommulab.core.pgtable.IommuProt;
import dev.iommulab.hw.mem.PhysicalMemory;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * An I/O address space ({@code struct iommufd_ioas} with its {@code io_pagetable}): areas of pinned user memory at
 * IOVAs, mirrored into the page table of every paging HWPT allocated on it (iopt_table_add_domain()). Reference:
 * drivers/iommu/iommufd/io_pagetable.c, ioas.c.
 */
final class Ioas extends IommufdObject {

    /** {@code IOMMU_IOAS_MAP_FIXED_IOVA}. */
    static final int MAP_FIXED_IOVA = 1;
    /** {@code IOMMU_IOAS_MAP_WRITEABLE}. */
    static final int MAP_WRITEABLE = 1 << 1;
    /** {@code IOMMU_IOAS_MAP_READABLE}. */
    static final int MAP_READABLE = 1 << 2;
    private static final long PAGE = PhysicalMemory.PAGE_SIZE;

    /** {@code struct iopt_area}: {@code length} bytes at {@code iova}, backed by pinned {@code frames}. */
    record Area(long iova, long length, MmStruct mm, long[] frames, int prot) {
        long last() {
            return iova + length - 1;
        }
    }

    private final TreeMap<Long, Area> areas = new TreeMap<>();
    private final List<IommuDomain> domains = new ArrayList<>();

    Ioas() {
        super("IOAS");
    }

    /**
     * iopt_map_user_pages(): pins {@code length} bytes of {@code mm} from {@code userVa} (pin_user_pages) and maps
     * them at {@code iova} — or, without {@link #MAP_FIXED_IOVA}, at the lowest free page-aligned IOVA — in every
     * domain of the IOAS. A failure leaves nothing mapped or pinned.
     *
     * @return the IOVA used
     * @throws KernelException EOPNOTSUPP for unknown flags; EINVAL for neither READABLE nor WRITEABLE, a zero or
     *                         unaligned length, VA or IOVA; EEXIST over an existing area; EFAULT from pinning;
     *                         what iommu_map() reports
     */
    long map(MmStruct mm, long userVa, long length, long iova, int flags) {
        if ((flags & ~(MAP_FIXED_IOVA | MAP_WRITEABLE | MAP_READABLE)) != 0) {
            throw new KernelException(Errno.EOPNOTSUPP, "flags", String.format("%#x", flags));
        }
        if ((flags & (MAP_WRITEABLE | MAP_READABLE)) == 0) {
            throw new KernelException(Errno.EINVAL, "flags", "neither READABLE nor WRITEABLE");
        }
        if (length <= 0 || ((userVa | length) & (PAGE - 1)) != 0) {
            throw new KernelException(Errno.EINVAL, "length", String.format("VA %#x length %#x: need whole pages",
                    userVa, length));
        }
        long at = (flags & MAP_FIXED_IOVA) != 0 ? iova : lowestFreeIova(length);
        if ((at & (PAGE - 1)) != 0 || at < 0 || at + length < 0) {
            throw new KernelException(Errno.EINVAL, "iova", String.format("%#x is not page aligned", at));
        }
        Area overlap = overlapping(at, at + length - 1);
        if (overlap != null) {
            throw new KernelException(Errno.EEXIST, "iova", String.format("[%#x, %#x] overlaps the area at %#x", at,
                    at + length - 1, overlap.iova()));
        }
        boolean write = (flags & MAP_WRITEABLE) != 0;
        int prot = ((flags & MAP_READABLE) != 0 ? IommuProt.IOMMU_READ : 0) | (write ? IommuProt.IOMMU_WRITE : 0);
        long[] frames = mm.pinUserPages(userVa, (int) (length / PAGE), write);
        Area area = new Area(at, length, mm, frames, prot);
        List<IommuDomain> done = new ArrayList<>();
        try {
            for (IommuDomain d : domains) {
                fill(d, area);
                done.add(d);
            }
        } catch (KernelException e) {
            done.forEach(d -> IommuMap.unmap(d, area.iova(), area.length()));
            mm.unpinUserPages(frames);
            throw e;
        }
        areas.put(at, area);
        return at;
    }

    /**
     * iopt_unmap_iova(): removes every area inside {@code [iova, iova + length)} from all domains (with their IOTLB
     * sync) and unpins its pages.
     *
     * @return the bytes unmapped
     * @throws KernelException ENOENT when the range cuts an area or holds none; nothing changes then
     */
    long unmap(long iova, long length) {
        long last = iova + length - 1;
        List<Area> victims = new ArrayList<>();
        for (Area a : areas.values()) {
            if (a.iova() <= last && a.last() >= iova) {
                if (a.iova() < iova || a.last() > last) {
                    throw new KernelException(Errno.ENOENT, "iova", String.format("[%#x, %#x] cuts the area [%#x, %#x]",
                            iova, last, a.iova(), a.last()));
                }
                victims.add(a);
            }
        }
        if (victims.isEmpty() || length <= 0) {
            throw new KernelException(Errno.ENOENT, "iova", String.format("nothing mapped in [%#x, %#x]", iova, last));
        }
        long bytes = 0;
        for (Area a : victims) {
            remove(a);
            bytes += a.length();
        }
        return bytes;
    }

    private void remove(Area a) {
        for (IommuDomain d : domains) {
            IommuMap.unmap(d, a.iova(), a.length());
        }
        areas.remove(a.iova());
        a.mm().unpinUserPages(a.frames());
    }

    /**
     * iopt_table_add_domain(): {@code domain} gets every area; a failure unmaps what it got and the domain is not
     * added.
     */
    void addDomain(IommuDomain domain) {
        List<Area> done = new ArrayList<>();
        try {
            for (Area a : areas.values()) {
                fill(domain, a);
                done.add(a);
            }
        } catch (KernelException e) {
            done.forEach(a -> IommuMap.unmap(domain, a.iova(), a.length()));
            throw e;
        }
        domains.add(domain);
    }

    /** iopt_table_remove_domain(): {@code domain} loses every area. */
    void removeDomain(IommuDomain domain) {
        if (domains.remove(domain)) {
            areas.values().forEach(a -> IommuMap.unmap(domain, a.iova(), a.length()));
        }
    }

    /** Maps {@code area} into {@code domain} in runs of physically contiguous frames. */
    private static void fill(IommuDomain domain, Area area) {
        long[] f = area.frames();
        long mapped = 0;
        try {
            for (int i = 0; i < f.length; ) {
                int j = i + 1;
                while (j < f.length && f[j] == f[j - 1] + PAGE) {
                    j++;
                }
                IommuMap.map(domain, area.iova() + i * PAGE, f[i], (j - i) * PAGE, area.prot());
                mapped = j * PAGE;
                i = j;
            }
        } catch (KernelException e) {
            if (mapped > 0) {
                IommuMap.unmap(domain, area.iova(), mapped);
            }
            throw e;
        }
    }

    private Area overlapping(long first, long last) {
        Map.Entry<Long, Area> below = areas.floorEntry(last);
        return below != null && below.getValue().last() >= first ? below.getValue() : null;
    }

    /** The lowest page-aligned IOVA where {@code length} bytes fit between areas (iopt_alloc_iova(), simplified). */
    private long lowestFreeIova(long length) {
        long candidate = 0;
        for (Area a : areas.values()) {
            if (a.iova() - candidate >= length) {
                break;
            }
            candidate = Math.max(candidate, a.iova() + a.length());
        }
        return candidate;
    }

    /** The areas, by IOVA. */
    List<Area> areas() {
        return List.copyOf(areas.values());
    }

    @Override
    void destroy() {
        for (Area a : List.copyOf(areas.values())) {
            remove(a);
        }
    }
}
