package dev.iommulab.hw.iommu;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The seeded operation mix the recent-translation differential tests of every family replay on two IOMMUs, one with
 * and one without the recent translations: mostly requests (kinds 0-2), the rest table edits and invalidations
 * (kinds 3-6), what each kind means being the family's own. Half the time a request repeats one of the last four,
 * so that recalled translations are exercised.
 */
public final class OperationMix {

    /** One operation, its operands drawn once and applied to both IOMMUs. */
    public record Op(int kind, int a, int b, int c, boolean flag) {
    }

    private OperationMix() {
    }

    /**
     * {@code count} operations of {@code seed}, operands below {@code spread}; {@code flag} holds one draw in four
     * when {@code flagRare}, else three in four.
     */
    public static List<Op> draw(long seed, int spread, int count, boolean flagRare) {
        SplittableRandom random = new SplittableRandom(seed);
        List<Op> ops = new ArrayList<>(count);
        List<Op> recentRequests = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            int draw = random.nextInt(100);
            int kind = draw < 45 ? 0 : draw < 52 ? 1 : draw < 70 ? 2 : draw < 78 ? 3 : draw < 81 ? 4 : draw < 84 ? 5
                    : 6;
            Op op = new Op(kind, random.nextInt(spread), random.nextInt(spread), random.nextInt(spread),
                    (random.nextInt(4) == 0) == flagRare);
            if (kind <= 2 && recentRequests.size() == 4 && random.nextBoolean()) {
                op = recentRequests.get(random.nextInt(4)); // the same request again: answered from the recent ones
            } else if (kind <= 2) {
                recentRequests.add(op);
                if (recentRequests.size() > 4) {
                    recentRequests.remove(0);
                }
            }
            ops.add(op);
        }
        return ops;
    }
}
