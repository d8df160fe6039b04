package dev.iommulab.core.dma;

import com.google.inject.Module;
import dev.iommulab.core.policy.Policies;
import dev.iommulab.core.policy.PolicyChoice;
import dev.iommulab.core.policy.PolicyException;
import dev.iommulab.core.policy.PolicyModule;
import java.util.List;
import java.util.Map;

/**
 * Registers dma-iommu's policy {@code dma.flush} ({@code lazy} | {@code strict}, parameters {@code batch} and
 * {@code timeout}: keys {@code dma.flush.batch}, {@code dma.flush.timeout}) in the {@code MapBinder<String, Policy>}
 * of {@link Policies}; {@link #defaults()} binds the kernel's x86 default, {@link DmaFlush#DEFAULT}.
 */
public final class DmaPolicyModule extends PolicyModule {

    /** The policy key. */
    public static final String DMA_FLUSH = "dma.flush";
    /** Parameter: flush-queue slots. */
    public static final String BATCH = "batch";
    /** Parameter: flush-queue timeout, a time ({@code ns}, {@code us}, {@code ms}; plain numbers are ns). */
    public static final String TIMEOUT = "timeout";

    @Override
    protected void configure() {
        Policies.binder(binder()).addBinding(DMA_FLUSH).toInstance(new PolicyChoice(List.of("lazy", "strict"),
                List.of(BATCH, TIMEOUT), (value, parameters) -> PolicyChoice.bind(DmaFlush.class,
                        choice(value, parameters))));
    }

    /** The binding of {@code value} with {@code parameters}; see {@link DmaFlush}. */
    static DmaFlush choice(String value, Map<String, String> parameters) {
        int batch = Policies.positiveInt(DMA_FLUSH, parameters, BATCH, DmaFlush.IOVA_DEFAULT_FQ_SIZE);
        if (batch < 2 || Integer.bitCount(batch) != 1 || batch > DmaFlush.IOVA_SINGLE_FQ_SIZE) {
            throw new PolicyException(DMA_FLUSH + "." + BATCH, "expected a power of two from 2 to "
                    + DmaFlush.IOVA_SINGLE_FQ_SIZE + " (IOVA_SINGLE_FQ_SIZE), found " + batch);
        }
        long timeout = DmaFlush.IOVA_DEFAULT_FQ_TIMEOUT_NS;
        String text = parameters.get(TIMEOUT);
        if (text != null) {
            timeout = Policies.positiveTime(DMA_FLUSH + "." + TIMEOUT, text);
        }
        DmaFlush.Mode mode = "strict".equals(value) ? DmaFlush.Mode.STRICT : DmaFlush.Mode.LAZY;
        return new DmaFlush(mode, batch, timeout);
    }

    /** The default binding, installed by {@link dev.iommulab.core.CoreModule}. */
    public static Module defaults() {
        return binder -> binder.bind(DmaFlush.class).toInstance(DmaFlush.DEFAULT);
    }
}
