package dev.iommulab.lab.scenario;

import java.util.List;

/**
 * One process of the {@code processes} section with its initial address space.
 *
 * @param name unique process name, referenced by steps
 * @param vmas initial mappings in file order, pairwise disjoint (unmodifiable)
 */
public record ProcessSpec(String name, List<VmaSpec> vmas) {

    /** Validates the name and that no two mappings overlap. */
    public ProcessSpec {
        Checks.name(name, "process name");
        vmas = List.copyOf(vmas);
        for (int i = 0; i < vmas.size(); i++) {
            for (int j = 0; j < i; j++) {
                if (vmas.get(i).overlaps(vmas.get(j))) {
                    throw new IllegalArgumentException("process " + name + ": vma " + i + " overlaps vma " + j);
                }
            }
        }
    }
}
