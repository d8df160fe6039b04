package dev.iommulab.lab.scenario;

import java.util.List;

/**
 * One process of the {@code processes} section with its initial address space.
 *
 * @param name unique process name, referenced by steps
 * @param vmas initial mappings in file order, pairwise disjoint (unmodifiable)
 * @param userResponse how this process's user-space driver serves its iommufd fault file, one of
 *                     {@link #USER_RESPONSES}; null: policy {@code vfio.user-response}
 */
public record ProcessSpec(String name, List<VmaSpec> vmas, String userResponse) {

    /** The values of {@code user-response} (those of policy {@code vfio.user-response}). */
    public static final List<String> USER_RESPONSES = List.of("resolve-and-succeed", "always-invalid", "never",
            "manual");

    /** Validates the name and that no two mappings overlap. */
    public ProcessSpec {
        Checks.name(name, "process name");
        vmas = List.copyOf(vmas);
        if (userResponse != null) {
            Checks.oneOf(userResponse, USER_RESPONSES, "user-response");
        }
        for (int i = 0; i < vmas.size(); i++) {
            for (int j = 0; j < i; j++) {
                if (vmas.get(i).overlaps(vmas.get(j))) {
                    throw new IllegalArgumentException("process " + name + ": vma " + i + " overlaps vma " + j);
                }
            }
        }
    }

    /** A process that follows policy {@code vfio.user-response}. */
    public ProcessSpec(String name, List<VmaSpec> vmas) {
        this(name, vmas, null);
    }
}
