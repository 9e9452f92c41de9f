"""``ErasedObject``: tombstones of orders, checkouts and transactions whose shopper data was erased (GDPR)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('support', '0005_case_assignee_sla_idx'),
    ]

    operations = [
        migrations.CreateModel(
            name='ErasedObject',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('order', 'Order'), ('checkout', 'Checkout'), ('transaction', 'Transaction')], max_length=16)),
                ('saleor_id', models.CharField(max_length=255)),
                ('erased_at', models.DateTimeField(auto_now_add=True)),
                ('installation', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='support.installation')),
            ],
            options={
                'db_table': 'support_erased_object',
                'constraints': [models.UniqueConstraint(fields=('installation', 'saleor_id'), name='erased_object_unique')],
            },
        ),
    ]
