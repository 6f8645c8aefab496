package dev.cellar.testing;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * {@code @ExtendWith(PostgresClusterExtension.class)}: one real cluster with the default
 * {@link PostgresCluster.Spec} for the whole test class, injected as a {@link PostgresCluster}
 * parameter, stopped and deleted after the class. Tests that need another kind of cluster call
 * {@link PostgresCluster#start(PostgresCluster.Spec)} in a try-with-resources block.
 */
public final class PostgresClusterExtension implements BeforeAllCallback, AfterAllCallback, ParameterResolver {

    private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(PostgresClusterExtension.class);

    @Override
    public void beforeAll(ExtensionContext context) {
        context.getStore(NS).put("cluster", PostgresCluster.start());
    }

    @Override
    public void afterAll(ExtensionContext context) {
        PostgresCluster c = context.getStore(NS).remove("cluster", PostgresCluster.class);
        if (c != null) {
            c.close();
        }
    }

    @Override
    public boolean supportsParameter(ParameterContext p, ExtensionContext e) {
        return p.getParameter().getType() == PostgresCluster.class;
    }

    @Override
    public Object resolveParameter(ParameterContext p, ExtensionContext e) {
        PostgresCluster c = e.getStore(NS).get("cluster", PostgresCluster.class);
        if (c == null) {
            // a method-level lookup: walk up to the class store
            c = e.getParent().map(parent -> parent.getStore(NS).get("cluster", PostgresCluster.class)).orElse(null);
        }
        return c;
    }
}
