package dev.iommulab.core.dma;

import java.util.ArrayList;
import java.util.List;

/**
 * How iommu_dma_map_sg() lays a scatterlist out in one IOVA range, and how __finalise_sg() turns it into DMA
 * segments. Each entry is widened to whole granules around its data ({@code s_iova_off} before it, the rest of
 * its last granule after it); when an entry would cross the device's segment boundary, the previous entry is
 * padded up to the boundary (and that padding is mapped too, as iommu_map_sg() maps {@code s->length}).
 *
 * @param iovaOff  per entry, its data's offset in its first granule
 * @param iovaLen  per entry, the IOVA bytes it takes (granule aligned, padding included)
 * @param total    the IOVA bytes of the whole list
 */
record SgLayout(long[] iovaOff, long[] iovaLen, long total) {

    /** The first loop of iommu_dma_map_sg(). */
    static SgLayout of(List<SgEntry> sg, long granule, long segBoundaryMask) {
        long[] off = new long[sg.size()];
        long[] len = new long[sg.size()];
        long total = 0;
        for (int i = 0; i < sg.size(); i++) {
            SgEntry s = sg.get(i);
            off[i] = s.phys() & (granule - 1);
            len[i] = align(s.length() + off[i], granule);
            long padLen = (segBoundaryMask - total + 1) & segBoundaryMask;
            if (padLen != 0 && padLen < len[i] - 1) {
                len[i - 1] += padLen;
                total += padLen;
            }
            total += len[i];
        }
        return new SgLayout(off, len, total);
    }

    /** The physical start of entry {@code i}'s mapping (its first granule). */
    long mapPhys(List<SgEntry> sg, int i) {
        return sg.get(i).phys() - iovaOff[i];
    }

    /**
     * Counterpart of __finalise_sg(): the DMA segments of the list mapped at {@code dmaAddr}. An entry that starts
     * a granule and follows one that ended exactly on a granule is appended to the current segment, unless the
     * segment would cross the boundary mask or exceed {@code maxSegSize}.
     */
    List<DmaSegment> finalise(List<SgEntry> sg, long dmaAddr, long segBoundaryMask, long maxSegSize) {
        List<DmaSegment> out = new ArrayList<>();
        long curLen = 0;
        long addr = dmaAddr;
        for (int i = 0; i < sg.size(); i++) {
            long sLength = sg.get(i).length();
            if (curLen != 0 && iovaOff[i] == 0 && (addr & segBoundaryMask) != 0 && maxSegSize - curLen >= sLength) {
                curLen += sLength;
                DmaSegment last = out.remove(out.size() - 1);
                out.add(new DmaSegment(last.dmaAddress(), curLen));
            } else {
                curLen = sLength;
                out.add(new DmaSegment(addr + iovaOff[i], curLen));
            }
            addr += iovaLen[i];
            if (sLength + iovaOff[i] < iovaLen[i]) {
                curLen = 0;
            }
        }
        return List.copyOf(out);
    }

    /** iova_align(). */
    static long align(long size, long granule) {
        return (size + granule - 1) & -granule;
    }
}
